// Package tomlcheck holds what the validators of m18's TOML files share: the
// line each key is defined on (BurntSushi/toml keeps positions private), the
// one rule for "did you mean", and the one coercion of TOML numbers.
// Validators decode with BurntSushi/toml into map[string]any, walk the
// result and report each problem at Lines(src)[key].
package tomlcheck
