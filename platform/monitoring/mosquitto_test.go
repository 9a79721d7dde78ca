package monitoring_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// broker is a Mosquitto of the test's own (the tests stop and start it): on a free port of
// 127.0.0.1, with its persistence, configuration and log in a temporary directory, and limits
// raised as docs/monitoring.md asks of a production broker.
type broker struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	mu   sync.Mutex
	cmd  *exec.Cmd
}

// mosquittoBin is the broker binary: CITYOPS_MOSQUITTO, /usr/sbin/mosquitto or on PATH. When
// there is none, a test fails under CI (scripts/test.sh installs it) and skips otherwise.
func mosquittoBin(t testing.TB) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CITYOPS_MOSQUITTO"), "/usr/sbin/mosquitto"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no mosquitto (Debian package mosquitto; or set CITYOPS_MOSQUITTO): the MQTT tests need a real broker")
	}
	t.Skip("no mosquitto (apt-get install mosquitto, or set CITYOPS_MOSQUITTO): skipping the MQTT test")
	return ""
}

// mustBroker starts a broker with extra configuration lines (authentication) appended; none
// lets anyone in.
func mustBroker(t testing.TB, extra string) *broker {
	t.Helper()
	b := &broker{t: t, bin: mosquittoBin(t), dir: t.TempDir()}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	if extra == "" {
		extra = "allow_anonymous true\n"
	}
	conf := fmt.Sprintf(`listener %d 127.0.0.1
persistence true
persistence_location %s/
autosave_interval 1
max_inflight_messages 10000
max_queued_messages 10000000
log_dest file %s
log_type error
log_type warning
log_type notice
log_type information
`, b.port, b.dir, filepath.Join(b.dir, "mosquitto.log"))
	if u, err := user.Current(); err == nil && u.Uid == "0" {
		conf += "user root\n" // as root it would switch to the user mosquitto, who cannot enter the temporary directory
	}
	if err := os.WriteFile(filepath.Join(b.dir, "mosquitto.conf"), []byte(conf+extra), 0o600); err != nil {
		t.Fatal(err)
	}
	b.start()
	t.Cleanup(func() {
		b.stop()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(b.dir, "mosquitto.log"))
			t.Logf("mosquitto's log:\n%s", log)
		}
	})
	return b
}

func (b *broker) url() string { return fmt.Sprintf("tcp://127.0.0.1:%d", b.port) }

func (b *broker) start() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	cmd := exec.Command(b.bin, "-c", filepath.Join(b.dir, "mosquitto.conf"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		b.t.Fatalf("mosquitto: %v", err)
	}
	b.cmd = cmd
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", b.port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(b.dir, "mosquitto.log"))
			b.t.Fatalf("mosquitto did not listen on %d: %s", b.port, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the broker as a service manager does (SIGTERM: it saves its persistence).
func (b *broker) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	b.cmd.Wait()
	b.cmd = nil
}

// publisher is a device-side client publishing at QoS 1 with a persistent session, so that what
// it published while the broker was away goes out when it is back.
type publisher struct {
	t testing.TB
	c mqtt.Client
}

func mustPublisher(t testing.TB, url, id, user, pass string) *publisher {
	t.Helper()
	opts := mqtt.NewClientOptions().AddBroker(url).SetClientID(id).SetCleanSession(false).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond).
		SetMaxReconnectInterval(500 * time.Millisecond).SetWriteTimeout(0)
	if user != "" {
		opts.SetUsername(user).SetPassword(pass)
	}
	c := mqtt.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publisher %s: connect: %v", id, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return &publisher{t: t, c: c}
}

// sent is a message published, and its token.
type sent struct {
	p              *publisher
	topic, payload string
	tok            mqtt.Token
}

// publish sends payload to topic at QoS 1 without waiting for the broker's answer.
func (p *publisher) publish(topic, payload string) sent {
	return sent{p, topic, payload, p.c.Publish(topic, 1, false, payload)}
}

// mustPublish sends payload and waits for the broker to take it.
func (p *publisher) mustPublish(topic, payload string) {
	p.t.Helper()
	wait(p.t, []sent{p.publish(topic, payload)})
}

// wait waits for the broker to take every message, publishing again, as a device does, a
// message whose publication failed (the connection broke under it).
func wait(t testing.TB, ms []sent) {
	t.Helper()
	for _, m := range ms {
		for try := 0; ; try++ {
			if !m.tok.WaitTimeout(60 * time.Second) {
				t.Fatalf("publish to %s: no answer", m.topic)
			}
			if m.tok.Error() == nil {
				break
			}
			if try == 50 {
				t.Fatalf("publish to %s: %v", m.topic, m.tok.Error())
			}
			time.Sleep(100 * time.Millisecond)
			m = m.p.publish(m.topic, m.payload)
		}
	}
}
