package tenants

import (
	"context"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
)

func TestPasswordHashing(t *testing.T) {
	h, err := HashPassword("correct horse battery", testPasswords)
	if err != nil {
		t.Fatal(err)
	}
	if !CheckPassword(h, "correct horse battery") || CheckPassword(h, "correct horse batterx") {
		t.Fatal("argon2id check is wrong")
	}
	for _, bad := range []string{"", "$argon2id$", "$argon2id$v=19$m=1,t=1,p=1$!!$!!", "$bcrypt$x$y$z$w"} {
		if CheckPassword(bad, "x") {
			t.Fatalf("CheckPassword accepted hash %q", bad)
		}
	}
	if _, err := HashPassword("short", testPasswords); !errs.Is(err, errs.Invalid) {
		t.Fatalf("short password: %v", err)
	}
}

func TestSessionsTokensInvitations(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		s.now = func() time.Time { return now }
		p := NewProvisioner(s)
		mustProvision(t, p, prefecture)
		a := mustProvision(t, p, countyA)

		_, err := s.CreateIdentity(ctx, NewIdentity{Email: "Admin@Chuxiong.cn", Name: "管理员", Password: "a long password"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateIdentity(ctx, NewIdentity{Email: "admin@chuxiong.cn", Password: "a long password"}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("duplicate email (case-insensitive): %v", err)
		}
		if _, _, err := s.Login(ctx, "admin@chuxiong.cn", "wrong password!", "", ""); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("wrong password: %v", err)
		}
		if _, _, err := s.Login(ctx, "nobody@chuxiong.cn", "a long password", "", ""); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("unknown email: %v", err)
		}
		tok, id, err := s.Login(ctx, "ADMIN@chuxiong.cn", "a long password", "test", "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		pr, err := s.PrincipalBySession(ctx, tok)
		if err != nil || pr.Identity.ID != id.ID {
			t.Fatalf("session: %v %v", pr, err)
		}
		now = now.Add(SessionIdle + time.Minute)
		if _, err := s.PrincipalBySession(ctx, tok); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("idle session: %v", err)
		}

		apiTok, _, err := s.CreateAPIToken(ctx, id.ID, "cron", 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.PrincipalByAPIToken(ctx, apiTok); err != nil {
			t.Fatal(err)
		}
		ts, _ := s.FindAPITokens(ctx, id.ID)
		if err := s.RevokeAPIToken(ctx, id.ID, ts[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PrincipalByAPIToken(ctx, apiTok); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("revoked token: %v", err)
		}

		// Invitation: a new person creates an account; the membership appears.
		_, invTok, err := s.Invite(ctx, a, "inspector@chuxiong.cn", "张三", Inspector)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Invite(ctx, a, "x@chuxiong.cn", "", PrefectureViewer); !errs.Is(err, errs.Invalid) {
			t.Fatalf("prefecture_viewer in a county: %v", err)
		}
		insp, tn, err := s.AcceptInvitation(ctx, invTok, "", "inspector password")
		if err != nil {
			t.Fatal(err)
		}
		if tn.ID != a.ID || insp.Name != "张三" {
			t.Fatalf("accepted into %v as %q", tn.Slug, insp.Name)
		}
		if _, _, err := s.AcceptInvitation(ctx, invTok, "", "inspector password"); !errs.Is(err, errs.Conflict) {
			t.Fatalf("accepting twice: %v", err)
		}
		ms, err := s.FindMembers(ctx, a.ID)
		if err != nil || len(ms) != 1 || ms[0].Roles[0] != Inspector {
			t.Fatalf("members: %+v %v", ms, err)
		}
		// The last tenant admin stays.
		if err := s.Grant(ctx, a, id.ID, TenantAdmin); err != nil {
			t.Fatal(err)
		}
		if err := s.SetMemberRoles(ctx, a, id.ID, []Role{Viewer}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("removing the last admin: %v", err)
		}
		if err := s.SetMemberRoles(ctx, a, insp.ID, []Role{Inspector, Handler, Inspector}); err != nil {
			t.Fatal(err)
		}
		pr, _ = s.principal(ctx, insp.ID, nil)
		if got := pr.RolesIn(a.ID); len(got) != 2 {
			t.Fatalf("roles after set: %v", got)
		}
		// Expired invitation.
		_, old, _ := s.Invite(ctx, a, "late@chuxiong.cn", "", Viewer)
		now = now.Add(InvitationTTL + time.Hour)
		if _, _, err := s.AcceptInvitation(ctx, old, "", "late password!"); !errs.Is(err, errs.Gone) {
			t.Fatalf("expired invitation: %v", err)
		}
	})
}

func TestResolveAccess(t *testing.T) {
	pref := &Tenant{Slug: "p", Kind: Prefecture}
	pref.ID[0] = 1
	a := &Tenant{Slug: "a", Kind: County, ParentID: &pref.ID}
	a.ID[0] = 2
	b := &Tenant{Slug: "b", Kind: County, ParentID: &pref.ID}
	b.ID[0] = 3
	admin := &Principal{Identity: &Identity{Email: "x"}, Memberships: []Membership{{TenantID: a.ID, Role: TenantAdmin}}}
	viewer := &Principal{Identity: &Identity{Email: "v"}, Memberships: []Membership{{TenantID: pref.ID, Role: PrefectureViewer}}}
	op := &Principal{Identity: &Identity{Email: "o", OperatorRole: OperatorSupport}}
	if sc, err := Resolve(admin, a, []*Tenant{pref}); err != nil || sc.ReadOnly {
		t.Fatalf("admin in own tenant: %+v %v", sc, err)
	}
	if _, err := Resolve(admin, b, []*Tenant{pref}); !errs.Is(err, errs.NotFound) {
		t.Fatalf("admin of A in B: %v, want not found", err)
	}
	if sc, err := Resolve(viewer, b, []*Tenant{pref}); err != nil || !sc.ReadOnly || sc.Via != pref {
		t.Fatalf("prefecture viewer in B: %+v %v", sc, err)
	}
	if sc, err := Resolve(op, a, nil); err != nil || !sc.ReadOnly || !sc.Operator {
		t.Fatalf("operator: %+v %v", sc, err)
	}
	if _, err := Resolve(nil, a, nil); !errs.Is(err, errs.Unauthorized) {
		t.Fatalf("anonymous: %v", err)
	}
}
