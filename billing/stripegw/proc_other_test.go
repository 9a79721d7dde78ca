//go:build !linux

package stripegw_test

import "os/exec"

func tieToTestProcess(*exec.Cmd) {}
