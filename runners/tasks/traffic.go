package tasks

// trafficTasks returns tasks 001 (production workload), 003 (bursts) and
// 005 (throughput breaking point).
func trafficTasks() []Task { return nil }
