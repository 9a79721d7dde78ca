package outbox

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	p := Policy{Base: 2 * time.Second, MaxBackoff: time.Hour}
	for _, tc := range []struct {
		attempts int
		want     time.Duration // the ceiling d; the wait is in [d/2, d]
	}{
		{0, 2 * time.Second}, {1, 2 * time.Second}, {2, 4 * time.Second}, {5, 32 * time.Second},
		{11, 2048 * time.Second}, {12, time.Hour}, {40, time.Hour}, {1000, time.Hour},
	} {
		for range 50 {
			if got := p.Backoff(tc.attempts); got < tc.want/2 || got > tc.want {
				t.Fatalf("Backoff(%d) = %s, want within [%s, %s]", tc.attempts, got, tc.want/2, tc.want)
			}
		}
	}
	if got := (Policy{}).Backoff(1); got < time.Second/2 || got > time.Second {
		t.Fatalf("zero policy: Backoff(1) = %s, want within [0.5s, 1s]", got)
	}
}

func TestDead(t *testing.T) {
	p := Policy{MaxAttempts: 3}
	for _, tc := range []struct {
		attempts  int
		permanent bool
		want      bool
	}{{1, false, false}, {2, false, false}, {3, false, true}, {1, true, true}} {
		if got := p.Dead(tc.attempts, tc.permanent); got != tc.want {
			t.Fatalf("Dead(%d, %t) = %t, want %t", tc.attempts, tc.permanent, got, tc.want)
		}
	}
	if (Policy{}).Dead(1000, false) {
		t.Fatal("a policy without MaxAttempts killed a row for its attempts")
	}
}
