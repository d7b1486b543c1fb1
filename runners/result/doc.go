// Package result defines the m18.result/v1 document: what one m18-run
// invocation measured, per repetition and per operation, with the encoded HDR
// histograms and the Engram loadtest report fields at top level.
//
// It is a leaf package: the load engine writes documents, the gate and the
// history store read them, and none of them needs the others to do so. The
// document is the contract; a reader rejects versions it does not know rather
// than guessing.
package result
