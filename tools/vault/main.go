// Command vault is HashiCorp Vault's own command line, built from the
// github.com/hashicorp/vault module so that tests can run a real Vault
// server in dev mode on machines where only the Go module proxy is
// reachable. It lives in its own module to keep Vault's very large
// dependency tree out of the product's go.mod.
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() {
	os.Exit(command.Run(os.Args[1:]))
}
