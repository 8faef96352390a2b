package kantreestub_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

func startPush(t *testing.T, id, process string) string {
	t.Helper()
	port := testbed.FreePort(t)
	base := "127.0.0.1:" + itoa(port)
	startPlatform(t, process+"-"+id, []string{"PORT=" + itoa(port), "KANTREE_INSTANCE_ID=" + id},
		testbed.HTTPReady("http://"+base+"/health"), "run", process)
	return base
}

// openSession opens an engine.io polling session and returns its sid.
func openSession(t *testing.T, addr string) string {
	t.Helper()
	code, body, _ := get(t, "http://"+addr+"/socket.io/?EIO=4&transport=polling")
	if code != 200 || !strings.HasPrefix(body, "0{") {
		t.Fatalf("open: %d %q", code, body)
	}
	var open struct {
		Sid      string
		Upgrades []string
	}
	if err := json.Unmarshal([]byte(body[1:]), &open); err != nil || open.Sid == "" {
		t.Fatalf("open packet %q: %v", body, err)
	}
	return open.Sid
}

func TestPushSessionsAreKnownOnlyToTheirInstance(t *testing.T) {
	t.Parallel()
	for _, process := range []string{"push", "realtime"} {
		t.Run(process, func(t *testing.T) {
			a, b := startPush(t, "a", process), startPush(t, "b", process)
			sid := openSession(t, a)
			poll := "/socket.io/?EIO=4&transport=polling&sid=" + sid
			if code, body, _ := get(t, "http://"+a+poll); code != 200 {
				t.Errorf("instance a with its own sid: %d %q", code, body)
			}
			code, body, _ := get(t, "http://"+b+poll)
			if code != http.StatusBadRequest || !strings.Contains(body, "Session ID unknown") {
				t.Errorf("instance b with a's sid: %d %q, want 400 Session ID unknown", code, body)
			}
			resp, err := http.Post("http://"+a+poll, "text/plain", strings.NewReader("4hello"))
			if err != nil || resp.StatusCode != 200 {
				t.Errorf("POST to a: %v %v", resp, err)
			}
		})
	}
}

func TestPushWebSocketUpgradeEchoesAndRejectsForeignSid(t *testing.T) {
	t.Parallel()
	a, b := startPush(t, "a", "push"), startPush(t, "b", "push")
	sid := openSession(t, a)
	ws := "/socket.io/?EIO=4&transport=websocket&sid=" + sid
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+a+ws, nil)
	if err != nil {
		t.Fatalf("websocket to a: %v", err)
	}
	defer conn.Close()
	for _, m := range []struct{ send, want string }{{"2probe", "3probe"}, {"4hello", "4hello"}} {
		if err := conn.WriteMessage(websocket.TextMessage, []byte(m.send)); err != nil {
			t.Fatal(err)
		}
		_, got, err := conn.ReadMessage()
		if err != nil || string(got) != m.want {
			t.Fatalf("sent %q, got %q, %v; want %q", m.send, got, err, m.want)
		}
	}
	_, resp, err := websocket.DefaultDialer.Dial("ws://"+b+ws, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("websocket to b with a's sid: %v, %v; want HTTP 400", resp, err)
	}
	fresh, _, err := websocket.DefaultDialer.Dial("ws://"+b+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatalf("websocket to b without sid: %v", err)
	}
	defer fresh.Close()
	if _, open, err := fresh.ReadMessage(); err != nil || !strings.HasPrefix(string(open), "0{\"instance\":\"b\"") {
		t.Fatalf("open packet over websocket: %q, %v", open, err)
	}
}
