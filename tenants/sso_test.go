package tenants

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/errs"
	"github.com/google/uuid"
)

// TestSSOStore: providers per tenant and for the operator, with the same key apart; the sign-in
// maps a claim to a member and binds the session to the provider's tenant; the rules that keep a
// unit from locking itself out; and a removed member is refused. Both dialects.
func TestSSOStore(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a, b := provisionAB(t, s)
		in := SSOProviderInput{Key: "corp", DisplayName: "统一身份认证", Issuer: "https://sso.example.gov.cn/", ClientID: "cityops", Claim: "employee_number"}
		pa, created, err := s.PutSSOProvider(ctx, &a.ID, in, "admin@a.cn")
		if err != nil || !created || pa.Issuer != "https://sso.example.gov.cn" || pa.Scopes != "openid email profile" || !pa.Enabled {
			t.Fatalf("A's provider: %+v %v %v", pa, created, err)
		}
		pb, _, err := s.PutSSOProvider(ctx, &b.ID, in, "admin@b.cn")
		if err != nil || pb.ID == pa.ID {
			t.Fatalf("B's provider of the same key: %+v %v", pb, err)
		}
		if _, _, err := s.PutSSOProvider(ctx, nil, in, "op@x.cn"); err != nil {
			t.Fatalf("the operator's provider of the same key: %v", err)
		}
		if ps, err := s.FindSSOProviders(ctx, &a.ID); err != nil || len(ps) != 1 || ps[0].ID != pa.ID {
			t.Fatalf("A's providers: %+v %v", ps, err)
		}
		if _, err := s.FindSSOProvider(ctx, &a.ID, "nope"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("unknown provider: %v", err)
		}

		member, err := s.CreateIdentity(ctx, NewIdentity{Email: "m@a.cn", Password: "a long password"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Grant(ctx, a, member.ID, Inspector); err != nil {
			t.Fatal(err)
		}
		if err := s.Grant(ctx, b, member.ID, Inspector); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutSSOLink(ctx, &b.ID, "corp", "10023", uuid.New()); errs.FieldOf(err) != "identity_id" {
			t.Fatalf("linking a stranger: %v", err)
		}
		if _, err := s.PutSSOLink(ctx, &a.ID, "corp", " 10023 ", member.ID); err != nil {
			t.Fatal(err)
		}
		claims := SSOClaims{Subject: "s1", Value: "10023"}
		tok, id, err := s.SSOSignIn(ctx, pa, claims, "a.b.c", "test", "127.0.0.1")
		if err != nil || id.ID != member.ID {
			t.Fatalf("sign-in: %v %v", id, err)
		}
		p, err := s.PrincipalBySession(ctx, tok)
		if err != nil || len(p.Memberships) != 1 || p.Memberships[0].TenantID != a.ID {
			t.Fatalf("the session's principal: %+v %v", p, err)
		}
		if ss, err := s.FindSSOSession(ctx, tok); err != nil || ss.ProviderID != pa.ID || ss.IDToken != "a.b.c" {
			t.Fatalf("the session's provider: %+v %v", ss, err)
		}
		// B's provider has no link for the number: B does not know the person by it.
		var refusal *SSORefusal
		if _, _, err := s.SSOSignIn(ctx, pb, claims, "", "", ""); !strings.Contains(errs.MessageOf(err), "has no account") || !asRefusal(err, &refusal) || refusal.Reason != "unknown" {
			t.Fatalf("B's provider: %v", err)
		}

		// Passwords off only with an enabled provider, which then stays.
		if _, err := s.PutLoginPolicy(ctx, a.ID, true, false, "admin@a.cn"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Login(ctx, "m@a.cn", "a long password", "", "127.0.0.1"); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("password with passwords off: %v", err)
		}
		off := false
		if _, _, err := s.PutSSOProvider(ctx, &a.ID, SSOProviderInput{Key: "corp", DisplayName: "x", Issuer: "https://sso.example.gov.cn", ClientID: "c", Enabled: &off}, ""); !errs.Is(err, errs.Conflict) {
			t.Fatalf("disabling the last provider: %v", err)
		}
		if _, err := s.DeleteSSOProvider(ctx, &a.ID, "corp"); !errs.Is(err, errs.Conflict) {
			t.Fatalf("deleting the last provider: %v", err)
		}

		// An identity removed from CityOps altogether is refused, and its session is gone.
		gone, err := s.CreateIdentity(ctx, NewIdentity{Email: "gone@a.cn", Password: "a long password"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Grant(ctx, a, gone.ID, Viewer); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutSSOLink(ctx, &a.ID, "corp", "777", gone.ID); err != nil {
			t.Fatal(err)
		}
		goneTok, _, err := s.SSOSignIn(ctx, pa, SSOClaims{Subject: "s2", Value: "777"}, "", "", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().NewDelete().Model((*Identity)(nil)).Where("id = ?", gone.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		s.dropCached(invalidIdentity, gone.ID.String())
		if _, _, err := s.SSOSignIn(ctx, pa, SSOClaims{Subject: "s2", Value: "777"}, "", "", ""); !asRefusal(err, &refusal) || refusal.Reason != "unknown" {
			t.Fatalf("a removed identity: %v", err)
		}
		if _, err := s.PrincipalBySession(ctx, goneTok); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("a removed identity's session: %v", err)
		}

		// A member removed from A is refused, and the open session loses A.
		if err := s.SetMemberRoles(ctx, a, member.ID, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SSOSignIn(ctx, pa, claims, "", "", ""); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("removed member: %v", err)
		}
		if p, err := s.PrincipalBySession(ctx, tok); err != nil || len(p.Memberships) != 0 {
			t.Fatalf("the removed member's session: %+v %v", p, err)
		}
		if _, err := s.PutLoginPolicy(ctx, a.ID, false, false, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DeleteSSOProvider(ctx, &a.ID, "corp"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PrincipalBySession(ctx, tok); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("a session of a deleted provider: %v", err)
		}
	})
}

func asRefusal(err error, r **SSORefusal) bool {
	v, ok := err.(*SSORefusal)
	*r = v
	return ok
}

// FuzzSSOProviderInput: whatever an admin types, normalize either refuses it as invalid input or
// returns fields that are clean text, with openid among the scopes.
func FuzzSSOProviderInput(f *testing.F) {
	f.Add("corp", "统一身份认证", "https://sso.example.gov.cn/realms/x", "cityops", "openid email", "email")
	f.Add("a\x00", "\x00", "https://\x00", "c\x00", "openid\x00", "e\x00")
	f.Add("yn", "x", "http://127.0.0.1:1/", "c", "", "phone_number")
	f.Fuzz(func(t *testing.T, key, name, issuer, client, scopes, claim string) {
		out, err := SSOProviderInput{Key: key, DisplayName: name, Issuer: issuer, ClientID: client, Scopes: scopes, Claim: claim}.normalize()
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("not an invalid-input error: %v", err)
			}
			return
		}
		for _, v := range []string{out.Key, out.DisplayName, out.Issuer, out.ClientID, out.Scopes, out.Claim} {
			if !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\r\n") {
				t.Fatalf("unclean field %q", v)
			}
		}
		if !strings.HasPrefix(out.Scopes, "openid") {
			t.Fatalf("scopes %q", out.Scopes)
		}
	})
}
