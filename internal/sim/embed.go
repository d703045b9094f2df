package sim

import "context"

// Embedded is a simulator started inside another process (the bot's run
// in development): its URLs and the credentials to trade on it.
type Embedded struct {
	Server       *Server
	RESTURL      string
	PublicWSURL  string
	PrivateWSURL string
	APIKey       string
	Secret       string
}

// StartEmbedded builds and starts a simulator in one call. It stops when
// ctx ends; call Server.Close to wait for it.
func StartEmbedded(ctx context.Context, cfg Config) (*Embedded, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.Start(ctx); err != nil {
		return nil, err
	}
	a := s.cfg.Accounts[0]
	return &Embedded{Server: s, RESTURL: s.URL(), PublicWSURL: s.PublicWSURL(), PrivateWSURL: s.PrivateWSURL(), APIKey: a.APIKey, Secret: a.Secret}, nil
}
