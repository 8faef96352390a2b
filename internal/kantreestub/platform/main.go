// Command platform is the stand-in for Kantree's ./platform used by the
// tests and demos of kantree-nomad; see package kantreestub.
package main

import (
	"os"

	"github.com/kantree-nomad/kantree-nomad/internal/kantreestub"
)

func main() { os.Exit(kantreestub.Main(os.Args[1:])) }
