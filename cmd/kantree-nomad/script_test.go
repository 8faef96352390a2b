package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the testscript scripts run this binary as `kantree-nomad`
// (testscript re-executes the test binary under that name).
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"kantree-nomad": func() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs testdata/script/*.txtar: the CLI's exit codes, stderr
// and the files it writes (or does not write). The examples directory is
// available to the scripts as $EXAMPLES.
func TestScripts(t *testing.T) {
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", examples)
			return nil
		},
		RequireExplicitExec: true,
	})
}
