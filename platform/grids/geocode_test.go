package grids

import (
	"testing"

	"github.com/paulmach/orb"
)

// TestInteriorPoint: the point a grid is placed at lies inside it, also for a U-shaped grid
// whose centroid and bound centre fall in the gap.
func TestInteriorPoint(t *testing.T) {
	square := orb.Polygon{{{0, 0}, {2, 0}, {2, 2}, {0, 2}, {0, 0}}}
	u := orb.Polygon{{{0, 0}, {3, 0}, {3, 3}, {2, 3}, {2, 1}, {1, 1}, {1, 3}, {0, 3}, {0, 0}}}
	for name, g := range map[string]orb.Geometry{"square": square, "U": u, "multi": orb.MultiPolygon{u}} {
		if p := interiorPoint(g); !contains(g, p) {
			t.Errorf("%s: %v is outside", name, p)
		}
	}
}
