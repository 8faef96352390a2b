package jobspec

import _ "embed"

// InitTemplate is the commented deployment file `kantree-nomad init`
// writes. It is valid as written (a test loads it).
//
//go:embed init.hcl
var InitTemplate []byte
