// Package input reads the samples a comparison is made of: one value per
// independent run, from m18.result/v1 documents, Engram loadtest reports,
// go test -bench output, criterion sample.json and hyperfine --export-json.
// Load detects each file's format by its content and merges the files of one
// side into a Set; errors name the file and, where they can, the field or
// line at fault.
package input
