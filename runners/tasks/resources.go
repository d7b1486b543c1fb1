package tasks

// resourceTasks returns tasks 002 (soak), 004 (dataset scaling) and 006
// (tail latency).
func resourceTasks() []Task { return nil }
