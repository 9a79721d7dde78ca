package tasks

import (
	"context"
	"testing"
	"time"
)

func TestGroup(t *testing.T) {
	var g Group
	if !g.Wait(context.Background()) {
		t.Fatal("an empty group is not idle")
	}
	first, second := make(chan struct{}), make(chan struct{})
	g.Go(func() { <-first })
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	if g.Wait(expired) {
		t.Fatal("Wait reported idle with a goroutine running")
	}
	waited := make(chan bool)
	go func() { waited <- g.Wait(context.Background()) }()
	// Started while Wait may be waiting: it is waited for too.
	if !g.Go(func() { <-second }) {
		t.Fatal("Go refused before Close")
	}
	close(first)
	g.Close()
	if g.Go(func() { t.Error("ran after Close") }) {
		t.Fatal("Go started a goroutine after Close")
	}
	select {
	case <-waited:
		t.Fatal("Wait returned with a goroutine running")
	default:
	}
	close(second)
	select {
	case ok := <-waited:
		if !ok {
			t.Fatal("Wait: not idle")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return once the goroutines had")
	}
}
