//go:build !linux

package secretstest

import "os/exec"

func startTied(cmd *exec.Cmd) error { return cmd.Start() }
