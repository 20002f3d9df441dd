package framework

import (
	"context"
	"io"
	"time"

	proto "veloro.io/interop/generated"
)

// objectStoreServer is the plugin side of generated.ObjectStore: it resolves
// the request's plugin name and turns Go errors into status Unknown + Stack.
type objectStoreServer struct {
	proto.UnimplementedObjectStoreServer
	reg *Registry
}

func (s *objectStoreServer) impl(name string) (ObjectStore, error) {
	inst, err := s.reg.Get(KindObjectStore, name)
	if err != nil {
		return nil, err
	}
	return inst.(ObjectStore), nil
}

func (s *objectStoreServer) Init(_ context.Context, req *proto.ObjectStoreInitRequest) (res *proto.Empty, err error) {
	defer recoverPanic(&err)
	store, err := s.impl(req.Plugin)
	if err != nil {
		return nil, NewGRPCError(err)
	}
	if err := store.Init(req.Config); err != nil {
		return nil, NewGRPCError(err)
	}
	return &proto.Empty{}, nil
}

// PutObject reads the first chunk for the name/bucket/key, then hands the
// store a reader that pulls the remaining chunks from the stream.
func (s *objectStoreServer) PutObject(stream proto.ObjectStore_PutObjectServer) (err error) {
	defer recoverPanic(&err)
	first, err := stream.Recv()
	if err != nil {
		return NewGRPCError(err)
	}
	store, err := s.impl(first.Plugin)
	if err != nil {
		return NewGRPCError(err)
	}
	body := &putReader{stream: stream, pending: first.Body}
	if err := store.PutObject(first.Bucket, first.Key, body); err != nil {
		return NewGRPCError(err)
	}
	return stream.SendAndClose(&proto.Empty{})
}

type putReader struct {
	stream  proto.ObjectStore_PutObjectServer
	pending []byte
	done    bool
}

func (r *putReader) Read(p []byte) (int, error) {
	for len(r.pending) == 0 {
		if r.done {
			return 0, io.EOF
		}
		msg, err := r.stream.Recv()
		if err == io.EOF {
			r.done = true
			return 0, io.EOF
		}
		if err != nil {
			return 0, err
		}
		r.pending = msg.Body
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

func (s *objectStoreServer) ObjectExists(_ context.Context, req *proto.ObjectExistsRequest) (res *proto.ObjectExistsResponse, err error) {
	defer recoverPanic(&err)
	store, err := s.impl(req.Plugin)
	if err != nil {
		return nil, NewGRPCError(err)
	}
	exists, err := store.ObjectExists(req.Bucket, req.Key)
	if err != nil {
		return nil, NewGRPCError(err)
	}
	return &proto.ObjectExistsResponse{Exists: exists}, nil
}

// GetObject streams the object in 16 KiB chunks (Velero's server chunk size).
func (s *objectStoreServer) GetObject(req *proto.GetObjectRequest, stream proto.ObjectStore_GetObjectServer) (err error) {
	defer recoverPanic(&err)
	store, err := s.impl(req.Plugin)
	if err != nil {
		return NewGRPCError(err)
	}
	rc, err := store.GetObject(req.Bucket, req.Key)
	if err != nil {
		return NewGRPCError(err)
	}
	defer rc.Close()
	buf := make([]byte, ChunkSize)
	for {
		n, rerr := rc.Read(buf)
		if n > 0 {
			if err := stream.Send(&proto.Bytes{Data: buf[:n]}); err != nil {
				return NewGRPCError(err)
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return NewGRPCError(rerr)
		}
	}
}

func (s *objectStoreServer) ListCommonPrefixes(_ context.Context, req *proto.ListCommonPrefixesRequest) (res *proto.ListCommonPrefixesResponse, err error) {
	defer recoverPanic(&err)
	store, err := s.impl(req.Plugin)
	if err != nil {
		return nil, NewGRPCError(err)
	}
	prefixes, err := store.ListCommonPrefixes(req.Bucket, req.Prefix, req.Delimiter)
	if err != nil {
		return nil, NewGRPCError(err)
	}
	return &proto.ListCommonPrefixesResponse{Prefixes: prefixes}, nil
}

func (s *objectStoreServer) ListObjects(_ context.Context, req *proto.ListObjectsRequest) (res *proto.ListObjectsResponse, err error) {
	defer recoverPanic(&err)
	store, err := s.impl(req.Plugin)
	if err != nil {
		return nil, NewGRPCError(err)
	}
	keys, err := store.ListObjects(req.Bucket, req.Prefix)
	if err != nil {
		return nil, NewGRPCError(err)
	}
	return &proto.ListObjectsResponse{Keys: keys}, nil
}

func (s *objectStoreServer) DeleteObject(_ context.Context, req *proto.DeleteObjectRequest) (res *proto.Empty, err error) {
	defer recoverPanic(&err)
	store, err := s.impl(req.Plugin)
	if err != nil {
		return nil, NewGRPCError(err)
	}
	if err := store.DeleteObject(req.Bucket, req.Key); err != nil {
		return nil, NewGRPCError(err)
	}
	return &proto.Empty{}, nil
}

func (s *objectStoreServer) CreateSignedURL(_ context.Context, req *proto.CreateSignedURLRequest) (res *proto.CreateSignedURLResponse, err error) {
	defer recoverPanic(&err)
	store, err := s.impl(req.Plugin)
	if err != nil {
		return nil, NewGRPCError(err)
	}
	url, err := store.CreateSignedURL(req.Bucket, req.Key, time.Duration(req.Ttl))
	if err != nil {
		return nil, NewGRPCError(err)
	}
	return &proto.CreateSignedURLResponse{Url: url}, nil
}

// recoverPanic turns a panic in an implementation into status Aborted, as
// go-plugin hosts expect, instead of crashing the plugin process.
func recoverPanic(err *error) {
	if r := recover(); r != nil {
		*err = NewPanicError(r)
	}
}
