package stripegw_test

import (
	"os/exec"
	"syscall"
)

// tieToTestProcess makes the kernel stop cmd when the test process ends, however it ends.
func tieToTestProcess(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
