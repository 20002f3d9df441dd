package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"fmt"
	"net"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
)

var tlsVersions = map[uint16]string{
	tls.VersionTLS10: "TLS1.0", tls.VersionTLS11: "TLS1.1",
	tls.VersionTLS12: "TLS1.2", tls.VersionTLS13: "TLS1.3",
}

func healthCheck(conn *grpc.ClientConn, opts ...grpc.CallOption) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := grpc_health_v1.NewHealthClient(conn).Check(ctx,
		&grpc_health_v1.HealthCheckRequest{Service: plugin.GRPCServiceName}, opts...)
	return err
}

// peerTLS pings over go-plugin's own connection and reports what the
// transport really negotiated: proof that AutoMTLS is in effect.
func peerTLS(conn *grpc.ClientConn, c *Check) error {
	var p peer.Peer
	if err := healthCheck(conn, grpc.Peer(&p)); err != nil {
		return err
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return fmt.Errorf("connection is not TLS (auth info %T)", p.AuthInfo)
	}
	st := info.State
	c.Info["version"] = tlsVersions[st.Version]
	if len(st.PeerCertificates) == 0 {
		return fmt.Errorf("plugin presented no certificate")
	}
	cert := st.PeerCertificates[0]
	c.Info["server_cn"] = cert.Subject.CommonName
	c.Info["server_dns"] = cert.DNSNames
	if key, ok := cert.PublicKey.(*ecdsa.PublicKey); ok {
		c.Info["server_key"] = "ECDSA " + key.Curve.Params().Name
	} else {
		c.Info["server_key"] = fmt.Sprintf("%T", cert.PublicKey)
	}
	if st.Version < tls.VersionTLS12 {
		return fmt.Errorf("TLS version %x is below 1.2", st.Version)
	}
	return nil
}

// probe dials the plugin's address on a fresh connection with the given
// transport credentials and runs one health check.
func probe(addr net.Addr, creds grpc.DialOption) error {
	dialer := func(ctx context.Context, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, addr.Network(), addr.String())
	}
	conn, err := grpc.Dial("unused", creds, grpc.WithContextDialer(dialer))
	if err != nil {
		return err
	}
	defer conn.Close()
	return healthCheck(conn)
}

// mustReject: the plugin must refuse a client that lacks the host's cert.
func mustReject(addr net.Addr, creds grpc.DialOption) error {
	if probe(addr, creds) == nil {
		return fmt.Errorf("the plugin accepted a connection it must refuse")
	}
	return nil
}

func mtlsChecks(rep *Report, rpc *plugin.GRPCClient, cfg *plugin.ClientConfig, addr net.Addr) {
	rep.run("mtls.peer_tls", "", "", func(c *Check) error {
		err := peerTLS(rpc.Conn, c)
		rep.TLS = c.Info
		return err
	})
	// Positive control: the same probe path with the host's own TLS config
	// must work, so the two rejections below are meaningful.
	rep.run("mtls.probe_with_host_cert_accepted", "", "", func(*Check) error {
		return probe(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg.TLSConfig.Clone())))
	})
	rep.run("mtls.rejects_plaintext_client", "", "", func(*Check) error {
		return mustReject(addr, grpc.WithInsecure())
	})
	rep.run("mtls.rejects_client_without_cert", "", "", func(*Check) error {
		if cfg.TLSConfig == nil || cfg.TLSConfig.RootCAs == nil {
			return fmt.Errorf("go-plugin did not load a server certificate from handshake field 6")
		}
		noCert := &tls.Config{RootCAs: cfg.TLSConfig.RootCAs, ServerName: "localhost"}
		return mustReject(addr, grpc.WithTransportCredentials(credentials.NewTLS(noCert)))
	})
}
