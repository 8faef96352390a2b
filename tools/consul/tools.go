//go:build tools

// Package tools pins the Consul agent that the test bed runs. It is a
// separate module because Consul's own go.mod uses replace directives that
// "go install pkg@version" refuses.
package tools

import _ "github.com/hashicorp/consul"
