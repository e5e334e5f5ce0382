package graph

import (
	"context"
	"log/slog"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/taskmind/taskmind/ent"
)

// HandlerOptions are the limits and hooks of the GraphQL endpoint.
type HandlerOptions struct {
	Introspection   bool
	ComplexityLimit int
	MaxDepth        int
	// MaxRootFields caps an operation's root fields, aliases included.
	MaxRootFields int
	// MaxCostlyFields caps how many inference or upload fields one
	// operation may run.
	MaxCostlyFields int
	// MaxUploadBytes caps multipart uploads (model files).
	MaxUploadBytes int64
	// AllowedOrigins are extra websocket origins besides the server's own
	// (host patterns as in coder/websocket's AcceptOptions).
	AllowedOrigins []string
	// WebsocketInit authenticates a websocket's connection_init payload and
	// returns the context for the connection's operations.
	WebsocketInit transport.WebsocketInitFunc
	// ShuttingDown reports whether the server is draining (websockets it
	// closes then say 1001).
	ShuttingDown func() bool
	// OnOperation is told about every finished operation (metrics, logs).
	OnOperation func(ctx context.Context, name, opType, code string, d time.Duration)
}

// ParserTokenLimit bounds the work of parsing a query; a legitimate query
// from the app or the playground is a few hundred tokens.
const ParserTokenLimit = 5000

// NewHandler builds the /graphql handler with every transport listed on
// purpose: POST (application/json only), GET for queries, multipart for
// uploads, and websocket for subscriptions.
func NewHandler(schema graphql.ExecutableSchema, client *ent.Client, log *slog.Logger, opts HandlerOptions) *handler.Server {
	srv := handler.New(schema)
	srv.AddTransport(transport.Websocket{
		Implementation: goingAway{
			inner: transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{
				// Same-origin is always allowed by coder/websocket; these are extra.
				OriginPatterns: opts.AllowedOrigins,
			}},
			shuttingDown: opts.ShuttingDown,
		},
		KeepAlivePingInterval: 15 * time.Second,
		InitTimeout:           10 * time.Second,
		InitFunc:              opts.WebsocketInit,
		ErrorFunc: func(ctx context.Context, err error) {
			log.DebugContext(ctx, "websocket closed with an error", "err", err)
		},
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	if opts.MaxUploadBytes > 0 {
		srv.AddTransport(transport.MultipartForm{MaxUploadSize: opts.MaxUploadBytes, MaxMemory: 8 << 20})
	}

	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(ParserTokenLimit)
	srv.SetDisableSuggestion(true)
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](256)})
	// Depth first: a deeply nested document is refused for its depth before
	// its complexity is even computed.
	srv.Use(depthLimit{max: opts.MaxDepth})
	srv.Use(operationBounds{maxRoot: opts.MaxRootFields, maxCostly: opts.MaxCostlyFields})
	srv.Use(extension.FixedComplexityLimit(opts.ComplexityLimit))
	// Response middleware runs outside whatever is added after it: these
	// must see the Transactioner's errors, recordOutcome and the metrics
	// the coded ones.
	srv.AroundResponses(recordOutcome)
	if opts.OnOperation != nil {
		srv.AroundResponses(observeOperations(opts.OnOperation))
	}
	srv.AroundResponses(codeTxErrors)
	srv.Use(entgql.Transactioner{
		TxOpener: entgql.TxOpenerFunc(func(ctx context.Context) (context.Context, driverTx, error) {
			return openTx(ctx, client, log)
		}),
		// Inference must not hold a database transaction (and on SQLite the
		// write lock) while a model runs; these fields write one row, or
		// manage their own transaction.
		SkipTxFunc: entgql.SkipIfHasFields("predict", "classifyDigit", "uploadModel", "deleteModel"),
	})
	srv.SetErrorPresenter(errorPresenter(log))
	srv.SetRecoverFunc(recoverFunc(log))
	srv.AroundFields(classifyResolverErrors)
	return srv
}
