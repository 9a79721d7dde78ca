package secretstest

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// startTied starts cmd so that the kernel kills it when the test process dies, however it dies
// (a timeout, a panic): no dev server outlives its test binary. Pdeathsig fires when the thread
// that forked the child exits, so children are forked from one goroutine locked to its OS thread
// that never returns.
func startTied(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	spawnOnce.Do(func() {
		spawn = make(chan func())
		go func() {
			runtime.LockOSThread()
			for f := range spawn {
				f()
			}
		}()
	})
	done := make(chan error, 1)
	spawn <- func() { done <- cmd.Start() }
	return <-done
}

var (
	spawnOnce sync.Once
	spawn     chan func()
)
