package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bitrader/bitrader/internal/loopback"
)

const (
	testAPIKey = "AKIA-super-secret-api-key-7f3a"
	testSecret = "sk-super-secret-signing-key-91b2"
	testToken  = "admin-token-very-secret-55c1"
)

// TestNoSecretInAnyOutput runs every configuration command, on success and
// error paths, with secrets set, and checks that no secret value appears on
// stdout or stderr.
func TestNoSecretInAnyOutput(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte(testSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
	}{
		{"show", nil, []string{"config", "show"}, 0},
		{"show sources", nil, []string{"config", "show", "--sources"}, 0},
		{"validate ok", nil, []string{"config", "validate"}, 0},
		{"validate production ok", nil, []string{"config", "validate", "--env", "production", "--live"}, 0},
		{"validate bad value", map[string]string{"BITRADER_TRADING_MAXDAILYLOSS": "2"}, []string{"config", "validate"}, exitConfig},
		{"show with problems", map[string]string{"BITRADER_TRADING_LEVERAGE": "x"}, []string{"config", "show"}, exitConfig},
		{"secret set twice", map[string]string{"BITRADER_SECRET_KEY": testSecret}, []string{"config", "validate"}, exitConfig},
		{"run refuses bad config", map[string]string{"LOG_LEVEL": "nope"}, []string{"run"}, exitConfig},
		{"production without opt-in", nil, []string{"config", "validate", "--env", "production"}, exitConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("API_KEY", testAPIKey)
			t.Setenv("SECRET_KEY_FILE", secretFile)
			t.Setenv("ADMIN_TOKEN", testToken)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			code := execute(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout.String(), stderr.String())
			}
			assertNoSecrets(t, stdout.String()+stderr.String())
		})
	}
}

func assertNoSecrets(t *testing.T, out string) {
	t.Helper()
	for _, s := range []string{testAPIKey, testSecret, testToken, "super-secret"} {
		if strings.Contains(out, s) {
			t.Fatalf("output contains a secret (%q):\n%s", s, out)
		}
	}
}

// TestRunLogsNoSecrets starts the bot with debug JSON logs and secrets set,
// waits until it serves, stops it, and checks everything it printed.
func TestRunLogsNoSecrets(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("API_KEY", testAPIKey)
	t.Setenv("SECRET_KEY", testSecret)
	t.Setenv("ADMIN_TOKEN", testToken)
	// A port freePort saw free can be taken by another test's listener
	// before the bot binds it: then try another.
	for attempt := 1; ; attempt++ {
		out, errOut, stolen := runUntilServing(t, loopback.FreePort(t))
		if stolen && attempt < 3 {
			continue
		}
		if stolen {
			t.Fatalf("the metrics port was taken three times: %s", errOut)
		}
		if !strings.Contains(errOut, `"level":"DEBUG"`) {
			t.Fatalf("expected debug JSON logs, got: %s", errOut)
		}
		assertNoSecrets(t, out+errOut)
		return
	}
}

// runUntilServing runs the bot with debug JSON logs on port until its own
// "http serving" line and a /healthz answer, stops it and returns what it
// printed; stolen reports that the port was taken before it could bind.
func runUntilServing(t *testing.T, port int) (stdout, stderr string, stolen bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- execute(ctx, []string{"run", "--log-level", "debug", "--set", "system.logFormat=json",
			"--set", "system.metricsPort=" + strconv.Itoa(port), "--set", "system.listenAddress=127.0.0.1",
			"--set", "system.dataDir=" + t.TempDir()}, &out, &errOut)
	}()
	// Ask only once this process has logged its own listener (a /healthz
	// answer from whoever took the port would end the run too early) and
	// is trading with its keys, with debug lines out: the logs checked
	// must cover the signed, logged-in part of a run.
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for {
		if e := errOut.String(); strings.Contains(e, `"addr":"`+addr+`"`) &&
			strings.Contains(e, "leading: submissions enabled") && strings.Contains(e, `"level":"DEBUG"`) {
			resp, err := http.Get("http://" + addr + "/healthz")
			if err == nil {
				resp.Body.Close()
				break
			}
		}
		select {
		case code := <-done:
			if strings.Contains(errOut.String(), "address already in use") {
				return out.String(), errOut.String(), true
			}
			t.Fatalf("run exited early with %d: %s", code, errOut.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("run exit code %d: %s", code, errOut.String())
	}
	return out.String(), errOut.String(), false
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a running
// command and the test's reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := execute(context.Background(), []string{"version"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "bitrader dev (commit unknown") {
		t.Fatalf("version output %q", stdout.String())
	}
}

func TestUnknownCommandIsAnError(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := execute(context.Background(), []string{"frobnicate"}, &stdout, &stderr); code == 0 {
		t.Fatal("unknown command exited 0")
	}
}

func TestConfigShowSources(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("BITRADER_TRADING_LEVERAGE", "3")
	var stdout, stderr bytes.Buffer
	if code := execute(context.Background(), []string{"config", "show", "--sources"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"trading.leverage = 3  # BITRADER_TRADING_LEVERAGE\n", "trading.maxDailyLoss = \"0.05\"  # (built-in) config/development.yaml:"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("--sources output lacks %q:\n%s", want, stdout.String())
		}
	}
}
