package kantreestub

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/gorilla/websocket"
)

// push serves engine.io-like sessions: each is known only to the instance
// that created it, which is what makes sticky sessions necessary.
type push struct {
	c        command
	mu       sync.Mutex
	sessions map[string]bool
	conns    map[*websocket.Conn]bool
	upgrader websocket.Upgrader
}

// servePush runs the push (or realtime) process on push_port.
func (c command) servePush(ctx context.Context, name string) error {
	p := &push{c: c, sessions: map[string]bool{}, conns: map[*websocket.Conn]bool{},
		upgrader: websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}}
	mux := http.NewServeMux()
	mux.HandleFunc("/health", c.health)
	mux.HandleFunc("/socket.io/", p.handle)
	return c.serve(ctx, name, c.cfg.ListenPort(c.cfg.PushPort), mux, p.closeAll)
}

// handle is GET/POST /socket.io/?EIO=4&transport=polling|websocket[&sid=].
func (p *push) handle(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sid := q.Get("sid")
	if sid != "" && !p.known(sid) {
		eioError(w, 1, "Session ID unknown")
		return
	}
	switch q.Get("transport") {
	case "polling":
		p.poll(w, r, sid)
	case "websocket":
		p.websocket(w, r, sid)
	default:
		eioError(w, 0, "Transport unknown")
	}
}

// poll opens a session (no sid), acknowledges a client message (POST) or
// answers a noop packet (GET).
func (p *push) poll(w http.ResponseWriter, r *http.Request, sid string) {
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	switch {
	case sid == "":
		fmt.Fprint(w, "0"+p.open())
	case r.Method == http.MethodPost:
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		fmt.Fprint(w, "ok")
	default:
		fmt.Fprint(w, "6")
	}
}

// open creates a session and returns engine.io's open packet payload.
func (p *push) open() string {
	sid := newID(10)
	p.mu.Lock()
	p.sessions[sid] = true
	p.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"sid": sid, "upgrades": []string{"websocket"},
		"pingInterval": 25000, "pingTimeout": 20000, "maxPayload": 1000000, "instance": p.c.cfg.InstanceID})
	return string(b)
}

func (p *push) known(sid string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sessions[sid]
}

// websocket upgrades and echoes text messages; it answers the "2probe"
// upgrade probe with "3probe". Without sid it opens a session first.
func (p *push) websocket(w http.ResponseWriter, r *http.Request, sid string) {
	conn, err := p.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered the client
	}
	p.track(conn, true)
	defer p.track(conn, false)
	defer conn.Close()
	if sid == "" {
		if conn.WriteMessage(websocket.TextMessage, []byte("0"+p.open())) != nil {
			return
		}
	}
	for {
		kind, msg, err := conn.ReadMessage()
		if err != nil {
			return
		}
		if string(msg) == "2probe" {
			msg = []byte("3probe")
		}
		if conn.WriteMessage(kind, msg) != nil {
			return
		}
	}
}

func (p *push) track(conn *websocket.Conn, open bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if open {
		p.conns[conn] = true
	} else {
		delete(p.conns, conn)
	}
}

// closeAll closes the open websockets at shutdown (http.Server.Shutdown
// does not track hijacked connections).
func (p *push) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for conn := range p.conns {
		_ = conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseGoingAway, "server stopping"), deadlineSoon())
		conn.Close()
	}
}

// eioError answers HTTP 400 with engine.io's error body.
func eioError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg})
}
