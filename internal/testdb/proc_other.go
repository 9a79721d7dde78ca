//go:build !linux

package testdb

import "os/exec"

// startTied starts cmd. Outside Linux there is no parent-death signal, so a
// killed test process may leave the child running.
func startTied(cmd *exec.Cmd) error { return cmd.Start() }
