package rules

// Upper bounds of the numbers in kantree.hcl. Each is far above any real
// Kantree deployment and far below what overflows: a value past one is a
// typo (a count of 1000000000), refused by validate at its file:line
// rather than handed to Nomad as a plan.
const (
	// MaxCount is the most instances of one process group.
	MaxCount = 1000
	// MaxStandbys is the most scheduler standbys (scheduler_lock.standbys).
	MaxStandbys = 16
	// MaxCPU is the most CPU of one task, in MHz (256 cores of 1 GHz).
	MaxCPU = 256_000
	// MaxMemoryMB is the most memory of one task, in MB (1 TiB).
	MaxMemoryMB = 1 << 20
)
