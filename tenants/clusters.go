package tenants

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/migrations"
	"github.com/uptrace/bun"
)

// MainCluster is the name of the PostgreSQL cluster that holds the control plane (Config.
// DatabaseURL); on SQLite, the data directory. Every tenant lives there unless placed elsewhere.
const MainCluster = "main"

// Cluster is one PostgreSQL cluster (a primary, or a PgBouncer in front of it) that can hold
// tenant schemas. The control plane records each tenant's cluster by name (control.tenants.
// cluster); the name's URL comes from the configuration only, so passwords stay out of the
// database.
type Cluster struct {
	// Name is how the control plane names the cluster: lower case letters, digits and "_", at
	// most 30 characters. MainCluster is the control plane's own (its URL is Config.DatabaseURL).
	Name string
	// URL connects to the cluster's database as a role that may create roles and schemas, as
	// Config.DatabaseURL does for the main cluster. Empty for MainCluster.
	URL string
	// Capacity is how many live tenants provisioning places on the cluster at most; 0 means no
	// limit. Provisioning picks the cluster with the most room left (ties: fewest tenants, then
	// name); a move may go past it (the operator decides).
	Capacity int
}

var clusterNameRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,29}$`)

// ParseClusters reads the clusters of a configuration: spec lists "name=URL" entries separated by
// newlines or ";" (URLs may contain ","), capacities lists "name=N" entries separated by ","
// (the main cluster's capacity is given there too). Empty lines and lines starting with "#" are
// skipped, so that a file of one cluster per line reads as it looks.
func ParseClusters(spec, capacities string) ([]Cluster, error) {
	var out []Cluster
	seen := map[string]int{}
	var problems []error
	for _, line := range strings.FieldsFunc(spec, func(r rune) bool { return r == '\n' || r == ';' }) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, u, ok := strings.Cut(line, "=")
		name, u = strings.TrimSpace(name), strings.TrimSpace(u)
		switch {
		case !ok || !clusterNameRe.MatchString(name):
			problems = append(problems, fmt.Errorf("cluster %q: write name=postgres://… with a name of lower case letters, digits and _", name))
			continue
		case name == MainCluster:
			problems = append(problems, fmt.Errorf("cluster %q is the control plane's own (CITYOPS_DATABASE_URL): give the others other names", name))
			continue
		case !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://"):
			problems = append(problems, fmt.Errorf("cluster %s: the URL must start with postgres://", name))
			continue
		}
		if _, dup := seen[name]; dup {
			problems = append(problems, fmt.Errorf("cluster %s is named twice", name))
			continue
		}
		seen[name] = len(out)
		out = append(out, Cluster{Name: name, URL: u})
	}
	for _, kv := range strings.Split(capacities, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		name, v, _ := strings.Cut(kv, "=")
		name = strings.TrimSpace(name)
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			problems = append(problems, fmt.Errorf("cluster capacity %q: write name=N with N a number of tenants (0: no limit)", kv))
			continue
		}
		if name == MainCluster {
			if _, ok := seen[name]; !ok {
				seen[name] = len(out)
				out = append(out, Cluster{Name: MainCluster})
			}
		}
		i, ok := seen[name]
		if !ok {
			problems = append(problems, fmt.Errorf("cluster capacity for %q, which is not a configured cluster", name))
			continue
		}
		out[i].Capacity = n
	}
	return out, errors.Join(problems...)
}

// ClusterUse is a cluster with the live tenants placed on it.
type ClusterUse struct {
	Name     string `json:"name"`
	Capacity int    `json:"capacity"`
	Tenants  int    `json:"tenants"`
	// Configured is false for a cluster that tenants are placed on but this replica has no URL
	// for (their requests fail until it is configured).
	Configured bool `json:"configured"`
}

// Room is how many more tenants provisioning may place on the cluster (math.MaxInt without a
// limit).
func (u ClusterUse) Room() int {
	if u.Capacity == 0 {
		return math.MaxInt
	}
	return max(u.Capacity-u.Tenants, 0)
}

// Clusters lists the configured clusters, and any other a tenant is placed on, with their use.
func (s *Store) Clusters(ctx context.Context) ([]ClusterUse, error) {
	return s.clusterUse(ctx, s.reader)
}

func (s *Store) clusterUse(ctx context.Context, db bun.IDB) ([]ClusterUse, error) {
	var rows []struct {
		Cluster string `bun:"cluster"`
		N       int    `bun:"n"`
	}
	if err := db.NewRaw("SELECT cluster, count(*) AS n FROM control.tenants WHERE status <> ? GROUP BY cluster", StatusDeleted).
		Scan(ctx, &rows); err != nil {
		return nil, dbx.Translate(err)
	}
	byName := map[string]*ClusterUse{MainCluster: {Name: MainCluster, Capacity: s.capacity[MainCluster], Configured: true}}
	for name := range s.pools {
		byName[name] = &ClusterUse{Name: name, Capacity: s.capacity[name], Configured: true}
	}
	for _, r := range rows {
		u := byName[r.Cluster]
		if u == nil {
			u = &ClusterUse{Name: r.Cluster}
			byName[r.Cluster] = u
		}
		u.Tenants = r.N
	}
	out := make([]ClusterUse, 0, len(byName))
	for _, u := range byName {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// pickCluster chooses where provisioning places a new tenant: the configured cluster with the
// most room, then the fewest tenants, then the first name. Every cluster full is a conflict.
func (s *Store) pickCluster(ctx context.Context, db bun.IDB) (string, error) {
	if s.dialect == dbx.SQLite || len(s.pools) == 0 {
		if s.dialect == dbx.Postgres {
			return MainCluster, s.checkRoom(ctx, db, MainCluster)
		}
		return MainCluster, nil
	}
	use, err := s.clusterUse(ctx, db)
	if err != nil {
		return "", err
	}
	best := -1
	for i, u := range use {
		if !u.Configured || u.Room() == 0 {
			continue
		}
		if b := best; b < 0 || u.Room() > use[b].Room() || (u.Room() == use[b].Room() && u.Tenants < use[b].Tenants) {
			best = i
		}
	}
	if best < 0 {
		return "", errs.E(errs.Conflict, msgClustersFull)
	}
	return use[best].Name, nil
}

// checkRoom refuses a cluster that is full.
func (s *Store) checkRoom(ctx context.Context, db bun.IDB, name string) error {
	use, err := s.clusterUse(ctx, db)
	if err != nil {
		return err
	}
	for _, u := range use {
		if u.Name == name && u.Room() == 0 {
			return errs.E(errs.Conflict, msgClustersFull)
		}
	}
	return nil
}

// known reports whether name is a cluster this replica can reach.
func (s *Store) known(name string) bool {
	if name == MainCluster || name == "" {
		return true
	}
	_, ok := s.pools[name]
	return ok
}

// poolOf returns the pool of the cluster that holds t's schema: the control plane's own for the
// main cluster, the configured cluster's for the others. A tenant placed on a cluster this
// replica has no URL for fails closed.
func (s *Store) poolOf(t *Tenant) (*bun.DB, error) {
	return s.pool(t.Cluster)
}

func (s *Store) pool(name string) (*bun.DB, error) {
	if name == MainCluster || name == "" {
		return s.db, nil
	}
	if db, ok := s.pools[name]; ok {
		return db, nil
	}
	return nil, errs.E(errs.Unavailable, msgClusterNotConfigured, name)
}

// clusterTx runs fn in one write transaction on the named cluster (its own database, not the
// control plane's unless it is the main cluster).
func (s *Store) clusterTx(ctx context.Context, name string, fn func(ctx context.Context, tx bun.Tx) error) error {
	db, err := s.pool(name)
	if err != nil {
		return err
	}
	return dbx.Translate(db.RunInTx(ctx, nil, fn))
}

// migrateClusters applies the control set to every other cluster as well: it brings the
// reference data (schema ref, which tenant schemas read through their search_path and may
// reference) to each cluster, identical to the main cluster's. The control tables it also makes
// there stay empty: the control plane is the main cluster's alone.
func (s *Store) migrateClusters(ctx context.Context, ms []migrations.Migration) error {
	names := make([]string, 0, len(s.pools))
	for name := range s.pools {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		err := s.clusterTx(ctx, name, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS control; SELECT pg_advisory_xact_lock(7031)"); err != nil {
				return err
			}
			_, err := migrations.Apply(ctx, tx, "control.schema_migrations", ms, s.now())
			return err
		})
		if err != nil {
			return fmt.Errorf("cluster %s: %w", name, err)
		}
	}
	return nil
}

// placeNew is the cluster a new tenant goes to: the one asked for (which must be configured and
// have room), or the one pickCluster chooses. Concurrent provisionings take turns, so that they
// count each other's tenants.
func (s *Store) placeNew(ctx context.Context, tx bun.IDB, want string) (string, error) {
	if s.dialect == dbx.Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7033)"); err != nil {
			return "", err
		}
	}
	if want == "" {
		return s.pickCluster(ctx, tx)
	}
	if !s.known(want) || (s.dialect == dbx.SQLite && want != MainCluster) {
		return "", errs.Field("cluster", msgClusterNotConfigured, want)
	}
	return want, s.checkRoom(ctx, tx, want)
}

// ClusterDBs returns the pools of the clusters other than the main one (Store.DB), by name, for
// the database pool metrics.
func (s *Store) ClusterDBs() map[string]*bun.DB {
	out := make(map[string]*bun.DB, len(s.pools))
	for name, db := range s.pools {
		out[name] = db
	}
	return out
}
