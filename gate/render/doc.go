// Package render turns an m18.verdict/v1 document into what people read: an
// aligned text table for terminals and Markdown for the pull-request comment,
// the check run and the job summary.
//
// It is opinionated: the first line is always the answer, regressions come
// first, everything else is collapsed, and every string that came from the
// user's repository (scenario, operation and metric names, reasons, paths) is
// treated as hostile — escaped so it can neither format, link, embed HTML,
// ping people (@mentions) nor reference issues (#123). The functions are pure:
// no I/O beyond the io.Writer they are given.
package render
