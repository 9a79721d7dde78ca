// Command cityops serves CityOps (城运) and administers it: with no subcommand it serves; see
// `cityops --help`.
package main

import (
	"os"

	"github.com/cityops/cityops/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
