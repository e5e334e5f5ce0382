package graph

import (
	"net/http"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
)

// goingAway makes websockets that the server closes while shutting down say
// 1001 (going away) instead of gqlgen's 1000, so clients know to reconnect
// elsewhere rather than treat the subscription as finished.
type goingAway struct {
	inner        transport.WebsocketImplementation
	shuttingDown func() bool
}

func (g goingAway) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := g.inner.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	return &goingAwayConn{WebsocketConn: conn, shuttingDown: g.shuttingDown}, nil
}

type goingAwayConn struct {
	transport.WebsocketConn
	shuttingDown func() bool
}

func (c *goingAwayConn) WriteClose(code int, msg string) error {
	if c.shuttingDown != nil && c.shuttingDown() {
		code, msg = int(websocket.StatusGoingAway), "server shutting down"
	}
	return c.WebsocketConn.WriteClose(code, msg)
}

// SetReadLimit keeps gqlgen's payload limit working through the wrapper.
func (c *goingAwayConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}
