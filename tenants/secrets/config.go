package secrets

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/cityops/cityops/internal/errs"
)

// The backends Config.Backend can name.
const (
	BackendKeyring = "keyring"
	BackendVault   = "vault"
)

// Config picks and configures the secret store. The env tags are the variables the app reads
// (github.com/caarlos0/env); DataDir comes from the app's own CITYOPS_DATA_DIR.
type Config struct {
	// Backend is "keyring" (the default: nothing but the data directory is needed) or "vault".
	Backend string `env:"CITYOPS_SECRETS" envDefault:"keyring"`
	// DataDir is where the keyring keeps master.key and keyring.db, under secrets/.
	DataDir string

	// VaultAddr is Vault's address, for example https://vault.internal:8200. TLS settings come
	// from Vault's own variables (VAULT_CACERT, VAULT_CLIENT_CERT, VAULT_CLIENT_KEY,
	// VAULT_TLS_SERVER_NAME), read by the Vault client.
	VaultAddr string `env:"VAULT_ADDR"`
	// VaultToken logs in with a token. VaultTokenFile names a file holding one instead (a Vault
	// Agent sink, say); it is read again whenever the token runs out, so a refreshed file is
	// picked up without a restart.
	VaultToken     string `env:"VAULT_TOKEN,unset"`
	VaultTokenFile string `env:"VAULT_TOKEN_FILE"`
	// VaultRoleID and VaultWrappedSecretID log in with AppRole. The secret id arrives
	// response-wrapped (a single-use wrapping token, as a trusted orchestrator hands it out); it
	// is unwrapped once, at the first login, and kept in memory for later logins.
	// VaultWrappedSecretIDFile names a file holding the wrapping token instead.
	VaultRoleID              string `env:"CITYOPS_VAULT_ROLE_ID"`
	VaultWrappedSecretID     string `env:"CITYOPS_VAULT_WRAPPED_SECRET_ID,unset"`
	VaultWrappedSecretIDFile string `env:"CITYOPS_VAULT_WRAPPED_SECRET_ID_FILE"`
	// AppRoleMount is where the AppRole auth method is mounted. Default "approle".
	AppRoleMount string `env:"CITYOPS_VAULT_APPROLE_MOUNT" envDefault:"approle"`
	// TransitMount and KVMount are where the transit and KV v2 secrets engines are mounted.
	// Defaults "transit" and "secret".
	TransitMount string `env:"CITYOPS_VAULT_TRANSIT_MOUNT" envDefault:"transit"`
	KVMount      string `env:"CITYOPS_VAULT_KV_MOUNT" envDefault:"secret"`
}

// LogValue prints the configuration without its secrets.
func (c Config) LogValue() slog.Value {
	red := func(s string) string {
		if s == "" {
			return ""
		}
		return "[redacted]"
	}
	return slog.GroupValue(
		slog.String("backend", c.Backend), slog.String("data_dir", c.DataDir),
		slog.String("vault_addr", c.VaultAddr), slog.String("vault_token", red(c.VaultToken)),
		slog.String("vault_token_file", c.VaultTokenFile), slog.String("vault_role_id", c.VaultRoleID),
		slog.String("vault_wrapped_secret_id", red(c.VaultWrappedSecretID)),
		slog.String("transit_mount", c.TransitMount), slog.String("kv_mount", c.KVMount),
	)
}

func (c *Config) defaults() {
	if c.Backend == "" {
		c.Backend = BackendKeyring
	}
	if c.AppRoleMount == "" {
		c.AppRoleMount = "approle"
	}
	if c.TransitMount == "" {
		c.TransitMount = "transit"
	}
	if c.KVMount == "" {
		c.KVMount = "secret"
	}
	c.AppRoleMount = strings.Trim(c.AppRoleMount, "/")
	c.TransitMount = strings.Trim(c.TransitMount, "/")
	c.KVMount = strings.Trim(c.KVMount, "/")
}

// Validate reports every problem of the configuration at once, naming the variables.
func (c Config) Validate() error {
	c.defaults()
	var problems []error
	bad := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }
	switch c.Backend {
	case BackendKeyring:
		if c.DataDir == "" {
			bad("the keyring needs a data directory (CITYOPS_DATA_DIR)")
		}
	case BackendVault:
		if u, err := url.Parse(c.VaultAddr); c.VaultAddr == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("VAULT_ADDR %q must be an http:// or https:// URL", c.VaultAddr)
		}
		token := c.VaultToken != "" || c.VaultTokenFile != ""
		approle := c.VaultRoleID != "" || c.VaultWrappedSecretID != "" || c.VaultWrappedSecretIDFile != ""
		switch {
		case c.VaultToken != "" && c.VaultTokenFile != "":
			bad("set VAULT_TOKEN or VAULT_TOKEN_FILE, not both")
		case c.VaultWrappedSecretID != "" && c.VaultWrappedSecretIDFile != "":
			bad("set CITYOPS_VAULT_WRAPPED_SECRET_ID or CITYOPS_VAULT_WRAPPED_SECRET_ID_FILE, not both")
		case token && approle:
			bad("log in to Vault either with a token (VAULT_TOKEN, VAULT_TOKEN_FILE) or with AppRole (CITYOPS_VAULT_ROLE_ID and CITYOPS_VAULT_WRAPPED_SECRET_ID), not both")
		case !token && !approle:
			bad("Vault needs credentials: CITYOPS_VAULT_ROLE_ID with CITYOPS_VAULT_WRAPPED_SECRET_ID (production), or VAULT_TOKEN")
		case approle && c.VaultRoleID == "":
			bad("AppRole login needs CITYOPS_VAULT_ROLE_ID")
		case approle && c.VaultWrappedSecretID == "" && c.VaultWrappedSecretIDFile == "":
			bad("AppRole login needs CITYOPS_VAULT_WRAPPED_SECRET_ID (a response-wrapped secret id)")
		}
		for name, m := range map[string]string{"CITYOPS_VAULT_TRANSIT_MOUNT": c.TransitMount, "CITYOPS_VAULT_KV_MOUNT": c.KVMount, "CITYOPS_VAULT_APPROLE_MOUNT": c.AppRoleMount} {
			if !validMount(m) {
				bad("%s %q is not a mount path (letters, digits, '-', '_' and '/')", name, m)
			}
		}
	default:
		bad("CITYOPS_SECRETS %q must be keyring or vault", c.Backend)
	}
	return errors.Join(problems...)
}

func validMount(m string) bool {
	if m == "" || len(m) > 128 || strings.Contains(m, "//") || strings.Contains(m, "..") {
		return false
	}
	for _, r := range m {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '/') {
			return false
		}
	}
	return true
}

// Open opens the store that cfg names. A Vault that cannot be reached at start is not fatal: the
// store starts without keys (Ping says why), keeps trying, and serves once Vault answers. A
// misconfiguration (refused credentials, a used-up wrapped secret id) is an error.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, errs.Wrap(err, errs.Invalid, msgSecretStoreConfigurationInvalid, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Backend == BackendVault {
		return OpenVault(ctx, cfg, log)
	}
	return OpenKeyring(ctx, cfg.DataDir, log)
}

// readSecretFile reads a token from a file, trimmed of surrounding white space.
func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s: %w", path, errEmptyFile)
	}
	return s, nil
}

// errEmptyFile is a secret file with nothing in it.
var errEmptyFile = errors.New("the file is empty")
