// Package sizecap reads files whole, but only up to a size limit, failing
// with an error that names the file, its size and the limit. m18 reads
// verdicts, results and configs that may come from untrusted artifacts;
// reading them unbounded would let one file exhaust the runner's memory.
package sizecap

import (
	"fmt"
	"io"
	"os"
	"strconv"
)

// Error says a file is over its size limit.
type Error struct {
	// What kind of file ("verdict"), and its Path ("" for a stream).
	What, Path string
	// Size is the file's size, or 0 when it was read from a stream that
	// went on past the limit; Limit is the cap.
	Size, Limit int64
}

func (e *Error) Error() string {
	name := e.Path
	if name == "" {
		name = "input"
	}
	size := bytesString(e.Size)
	if e.Size <= e.Limit {
		size = "more than " + bytesString(e.Limit)
	}
	return fmt.Sprintf("%s: %s, over the %s limit for a %s file (is this the right file?)",
		name, size, bytesString(e.Limit), e.What)
}

func bytesString(n int64) string {
	if n >= 1<<20 {
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// ReadAll reads r to the end, or fails with an *Error once it yields more
// than limit bytes; what and path name the file in the error.
func ReadAll(r io.Reader, limit int64, what, path string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &Error{What: what, Path: path, Limit: limit}
	}
	return data, nil
}

// ReadFile reads the file at path, refusing one over limit bytes before
// reading it (and one that grows past it while being read).
func ReadFile(path string, limit int64, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > limit {
		return nil, &Error{What: what, Path: path, Size: fi.Size(), Limit: limit}
	}
	return ReadAll(f, limit, what, path)
}
