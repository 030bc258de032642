package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"modelsmith/app"
)

// With MODELSMITH_TEST_SERVE set, the test binary is a CLI process that
// handles SIGTERM as main.go does (cancel, then drain), for the signal tests.
func init() {
	if os.Getenv("MODELSMITH_TEST_SERVE") == "" {
		return
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, args, Env{Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}

const oneIrisRow = `{"inputs":[
	{"name":"sepal_length_cm","datatype":"FP64","shape":[1],"data":[5.1]},
	{"name":"sepal_width_cm","datatype":"FP64","shape":[1],"data":[3.5]},
	{"name":"petal_length_cm","datatype":"FP64","shape":[1],"data":[1.4]},
	{"name":"petal_width_cm","datatype":"FP64","shape":[1],"data":[0.2]}]}`

func TestServeCommands(t *testing.T) {
	ws := sampleWorkspace(t)
	if code, _, stderr := run(t, "--workspace", ws, "train", "--data", "iris", "--target", "species", "--algo", "linear", "--name", "iris"); code != 0 {
		t.Fatal(stderr)
	}
	code, out, _ := run(t, "--workspace", ws, "token", "create", "--name", "ci", "--json")
	var tok struct {
		ID    int64  `json:"id"`
		Token string `json:"token"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &tok) != nil || !strings.HasPrefix(tok.Token, "ms_") {
		t.Fatalf("token create: %d %s", code, out)
	}
	if code, out, _ := run(t, "--workspace", ws, "token", "list"); code != 0 || strings.Contains(out, tok.Token) || !strings.Contains(out, "ci") {
		t.Errorf("token list shows the secret or not the token: %s", out)
	}
	if code, _, stderr := run(t, "--workspace", ws, "serve", "--model", "iris", "--addr", "0.0.0.0:0", "--timeout", "bad"); code != ExitUsage {
		t.Errorf("bad --timeout: exit %d %s", code, stderr)
	}
	if code, _, _ := run(t, "--workspace", ws, "token", "revoke", "99"); code != ExitUsage {
		t.Errorf("revoke unknown: exit %d", code)
	}
	if code, _, _ := run(t, "--workspace", ws, "token", "revoke", "1"); code != 0 {
		t.Errorf("revoke: exit %d", code)
	}
	// With no valid token left, a non-loopback address is refused.
	if code, _, stderr := run(t, "--workspace", ws, "serve", "--model", "iris", "--addr", "0.0.0.0:0"); code != ExitUsage ||
		!strings.Contains(stderr, "needs a token") {
		t.Errorf("non-loopback without a token: exit %d %s", code, stderr)
	}
	if code, _, stderr := run(t, "--workspace", ws, "serve", "--model", "nope"); code == 0 || !strings.Contains(stderr, `no model "nope"`) {
		t.Errorf("unknown model: exit %d %s", code, stderr)
	}
	file := filepath.Join(t.TempDir(), "iris.msmodel")
	if code, _, stderr := run(t, "--workspace", ws, "export", "--model", "iris", "--out", file); code != 0 {
		t.Fatal(stderr)
	}
	other := newWorkspace(t)
	if code, out, stderr := run(t, "--workspace", other, "import-model", file, "--name", "copy"); code != 0 || !strings.Contains(out, "copy@1") {
		t.Errorf("import-model: %d %s %s", code, out, stderr)
	}
	if code, _, _ := run(t, "--workspace", ws, "model", "alias", "iris@1", "prod"); code != 0 {
		t.Errorf("model alias: exit %d", code)
	}
	if code, out, _ := run(t, "--workspace", ws, "model", "show", "iris@prod"); code != 0 || !strings.HasPrefix(out, "iris@1") {
		t.Errorf("model show iris@prod: %d %s", code, out)
	}
}

// serveChild starts `serve` in a child process under load from 8 clients
// and returns it, its URL and the load's counters.
func serveChild(t *testing.T, ws string) (*exec.Cmd, *load) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "--", "--workspace", ws, "serve", "--model", "iris", "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "MODELSMITH_TEST_SERVE=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`at (http://\S+/infer)`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
				break
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	var url string
	select {
	case url = <-urlc:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("the server did not start")
	}
	l := &load{stop: make(chan struct{})}
	client := &http.Client{Timeout: 10 * time.Second}
	for range 8 {
		l.wg.Go(func() {
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				resp, err := client.Post(url, "application/json", strings.NewReader(oneIrisRow))
				if err != nil {
					l.failed.Add(1)
					time.Sleep(5 * time.Millisecond)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					l.ok.Add(1)
				} else {
					l.failed.Add(1)
				}
			}
		})
	}
	for deadline := time.Now().Add(30 * time.Second); l.ok.Load() < 300 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	return cmd, l
}

type load struct {
	wg         sync.WaitGroup
	stop       chan struct{}
	ok, failed atomic.Int64
}

func deploymentsOf(t *testing.T, ws string) []app.DeploymentInfo {
	t.Helper()
	code, out, stderr := run(t, "--workspace", ws, "deployments", "--json")
	var list []app.DeploymentInfo
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil {
		t.Fatalf("deployments: %d %s %s", code, out, stderr)
	}
	return list
}

// SIGTERM under load: the server stops accepting, finishes what it accepted,
// and every answered request is in the prediction log.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	ws := sampleWorkspace(t)
	if code, _, stderr := run(t, "--workspace", ws, "train", "--data", "iris", "--target", "species", "--algo", "gbdt", "--name", "iris"); code != 0 {
		t.Fatal(stderr)
	}
	cmd, l := serveChild(t, ws)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	close(l.stop)
	l.wg.Wait()
	if err != nil {
		t.Fatalf("server exit: %v", err)
	}
	deps := deploymentsOf(t, ws)
	if len(deps) != 1 || deps[0].Status != "stopped" {
		t.Fatalf("deployments: %+v", deps)
	}
	if deps[0].Predictions != l.ok.Load() || l.ok.Load() < 300 {
		t.Errorf("%d predictions logged, %d requests answered", deps[0].Predictions, l.ok.Load())
	}
}

// SIGKILL under load: the workspace reopens intact; the deployment shows as
// interrupted; what the log had committed is there.
func TestServeKilledLeavesWorkspaceIntact(t *testing.T) {
	ws := sampleWorkspace(t) // integrity-checked at the end
	if code, _, stderr := run(t, "--workspace", ws, "train", "--data", "iris", "--target", "species", "--algo", "gbdt", "--name", "iris"); code != 0 {
		t.Fatal(stderr)
	}
	cmd, l := serveChild(t, ws)
	time.Sleep(300 * time.Millisecond) // a few log batches in, more in flight
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	close(l.stop)
	l.wg.Wait()
	checkIntegrity(t, ws)
	deps := deploymentsOf(t, ws)
	if len(deps) != 1 || deps[0].Status != "interrupted" || deps[0].Predictions == 0 {
		t.Errorf("deployments after SIGKILL: %+v (answered %d)", deps, l.ok.Load())
	}
}
