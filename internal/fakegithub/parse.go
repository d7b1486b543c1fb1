package fakegithub

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseToken parses a token specification of the fakegithub command:
// "SECRET=LOGIN:PERM" or "LOGIN:PERM" (the secret is then the login). PERM
// is "read", "write", or a comma list such as "checks=write,pull-requests=read".
// A login ending in "[bot]" is an installation token (GET /user is 403, it
// may create check runs), like GITHUB_TOKEN's "github-actions[bot]".
func ParseToken(spec string) (token string, id Identity, err error) {
	secret, rest, hasSecret := strings.Cut(spec, "=")
	if !hasSecret || strings.Contains(secret, ":") {
		secret, rest = "", spec
	}
	login, perm, ok := strings.Cut(rest, ":")
	if !ok || login == "" {
		return "", Identity{}, fmt.Errorf("token %q: want SECRET=LOGIN:PERM or LOGIN:PERM (PERM read, write or checks=write,pull-requests=read)", spec)
	}
	if secret == "" {
		secret = login
	}
	id = Identity{Login: login, Installation: strings.HasSuffix(login, "[bot]")}
	switch perm {
	case "read", "write":
		id.Checks, id.PullRequests = Access(perm), Access(perm)
	default:
		id.Checks, id.PullRequests = None, None
		for _, kv := range strings.Split(perm, ",") {
			k, v, _ := strings.Cut(kv, "=")
			a := Access(v)
			if a != None && a != Read && a != Write {
				return "", Identity{}, fmt.Errorf("token %q: access %q must be none, read or write", spec, v)
			}
			switch k {
			case "checks":
				id.Checks = a
			case "pull-requests":
				id.PullRequests = a
			default:
				return "", Identity{}, fmt.Errorf("token %q: unknown permission %q (want checks or pull-requests)", spec, k)
			}
		}
	}
	return secret, id, nil
}

// ParsePull parses a pull request specification of the fakegithub command:
// "OWNER/REPO#NUMBER=HEADOWNER:BRANCH@SHA" (HEADOWNER differs from OWNER for
// a pull request from a fork).
func ParsePull(spec string) (PullSpec, error) {
	bad := func() (PullSpec, error) {
		return PullSpec{}, fmt.Errorf("pull %q: want OWNER/REPO#NUMBER=HEADOWNER:BRANCH@SHA, e.g. o/r#7=fork:feature@0123abcd", spec)
	}
	base, head, ok := strings.Cut(spec, "=")
	if !ok {
		return bad()
	}
	repo, num, ok := strings.Cut(base, "#")
	owner, name, ok2 := strings.Cut(repo, "/")
	n, err := strconv.Atoi(num)
	if !ok || !ok2 || owner == "" || name == "" || err != nil || n <= 0 {
		return bad()
	}
	label, sha, ok := strings.Cut(head, "@")
	hOwner, branch, ok2 := strings.Cut(label, ":")
	if !ok || !ok2 || hOwner == "" || branch == "" || sha == "" {
		return bad()
	}
	return PullSpec{Owner: owner, Repo: name, Number: n, HeadOwner: hOwner, HeadBranch: branch, HeadSHA: sha}, nil
}
