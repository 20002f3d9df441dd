package framework

import (
	"context"
	"io"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	proto "veloro.io/interop/generated"
)

// ObjectStore is the Go-side ObjectStore contract (Velero's interface shape).
type ObjectStore interface {
	Init(config map[string]string) error
	PutObject(bucket, key string, body io.Reader) error
	ObjectExists(bucket, key string) (bool, error)
	GetObject(bucket, key string) (io.ReadCloser, error)
	ListCommonPrefixes(bucket, prefix, delimiter string) ([]string, error)
	ListObjects(bucket, prefix string) ([]string, error)
	DeleteObject(bucket, key string) error
	CreateSignedURL(bucket, key string, ttl time.Duration) (string, error)
}

// ObjectStorePlugin is the go-plugin GRPCPlugin for the ObjectStore kind. On
// the plugin side Reg holds the named implementations; on the host side
// GRPCClient returns an *ObjectStoreDispenser.
type ObjectStorePlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Reg *Registry
}

// GRPCServer registers the generated.ObjectStore service.
func (p *ObjectStorePlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	proto.RegisterObjectStoreServer(s, &objectStoreServer{reg: p.Reg})
	return nil
}

// GRPCClient returns a dispenser of per-name clients.
func (p *ObjectStorePlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return &ObjectStoreDispenser{client: proto.NewObjectStoreClient(c)}, nil
}

// ObjectStoreDispenser hands out an ObjectStore client bound to one name.
type ObjectStoreDispenser struct{ client proto.ObjectStoreClient }

// ClientFor returns the ObjectStore client for the plugin name.
func (d *ObjectStoreDispenser) ClientFor(name string) ObjectStore {
	return &objectStoreClient{client: d.client, name: name}
}

type objectStoreClient struct {
	client proto.ObjectStoreClient
	name   string
}

func (c *objectStoreClient) Init(config map[string]string) error {
	_, err := c.client.Init(context.Background(), &proto.ObjectStoreInitRequest{Plugin: c.name, Config: config})
	return FromGRPCError(err)
}

// PutObject streams the body in 16 KiB chunks exactly like Velero's client;
// an empty body is sent as one message with no data.
func (c *objectStoreClient) PutObject(bucket, key string, body io.Reader) error {
	stream, err := c.client.PutObject(context.Background())
	if err != nil {
		return FromGRPCError(err)
	}
	buf := make([]byte, ChunkSize)
	sent := false
	for {
		n, rerr := body.Read(buf)
		if n > 0 || (rerr == io.EOF && !sent) {
			msg := &proto.PutObjectRequest{Plugin: c.name, Bucket: bucket, Key: key, Body: buf[:n]}
			if err := stream.Send(msg); err != nil {
				_, cerr := stream.CloseAndRecv()
				if cerr != nil {
					return FromGRPCError(cerr)
				}
				return FromGRPCError(err)
			}
			sent = true
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			stream.CloseSend()
			return rerr
		}
	}
	_, err = stream.CloseAndRecv()
	return FromGRPCError(err)
}

func (c *objectStoreClient) ObjectExists(bucket, key string) (bool, error) {
	res, err := c.client.ObjectExists(context.Background(),
		&proto.ObjectExistsRequest{Plugin: c.name, Bucket: bucket, Key: key})
	if err != nil {
		return false, FromGRPCError(err)
	}
	return res.Exists, nil
}

// GetObject returns a reader over the server stream; the first error (such as
// a missing key) surfaces on the first Read, as with Velero's client.
func (c *objectStoreClient) GetObject(bucket, key string) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := c.client.GetObject(ctx, &proto.GetObjectRequest{Plugin: c.name, Bucket: bucket, Key: key})
	if err != nil {
		cancel()
		return nil, FromGRPCError(err)
	}
	return &streamReader{stream: stream, cancel: cancel}, nil
}

func (c *objectStoreClient) ListCommonPrefixes(bucket, prefix, delimiter string) ([]string, error) {
	res, err := c.client.ListCommonPrefixes(context.Background(), &proto.ListCommonPrefixesRequest{
		Plugin: c.name, Bucket: bucket, Prefix: prefix, Delimiter: delimiter})
	if err != nil {
		return nil, FromGRPCError(err)
	}
	return res.Prefixes, nil
}

func (c *objectStoreClient) ListObjects(bucket, prefix string) ([]string, error) {
	res, err := c.client.ListObjects(context.Background(),
		&proto.ListObjectsRequest{Plugin: c.name, Bucket: bucket, Prefix: prefix})
	if err != nil {
		return nil, FromGRPCError(err)
	}
	return res.Keys, nil
}

func (c *objectStoreClient) DeleteObject(bucket, key string) error {
	_, err := c.client.DeleteObject(context.Background(),
		&proto.DeleteObjectRequest{Plugin: c.name, Bucket: bucket, Key: key})
	return FromGRPCError(err)
}

func (c *objectStoreClient) CreateSignedURL(bucket, key string, ttl time.Duration) (string, error) {
	res, err := c.client.CreateSignedURL(context.Background(), &proto.CreateSignedURLRequest{
		Plugin: c.name, Bucket: bucket, Key: key, Ttl: int64(ttl)})
	if err != nil {
		return "", FromGRPCError(err)
	}
	return res.Url, nil
}

// streamReader adapts the GetObject server stream to io.ReadCloser and
// counts the chunks received (the tests report it).
type streamReader struct {
	stream  proto.ObjectStore_GetObjectClient
	cancel  context.CancelFunc
	pending []byte
	Chunks  int
}

func (r *streamReader) Read(p []byte) (int, error) {
	for len(r.pending) == 0 {
		msg, err := r.stream.Recv()
		if err == io.EOF {
			return 0, io.EOF
		}
		if err != nil {
			return 0, FromGRPCError(err)
		}
		r.Chunks++
		r.pending = msg.Data
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

func (r *streamReader) Close() error {
	r.cancel()
	return nil
}

// ChunkCount reports how many stream messages a GetObject reader received.
func ChunkCount(rc io.ReadCloser) int {
	if sr, ok := rc.(*streamReader); ok {
		return sr.Chunks
	}
	return -1
}
