package framework

import (
	"context"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	proto "veloro.io/interop/generated"
	protov2 "veloro.io/interop/generated/v2"
)

// BackupItemAction is the plugin-side v1 contract.
type BackupItemAction interface {
	AppliesTo() (*proto.ResourceSelector, error)
	Execute(item, backup []byte) ([]byte, []*proto.ResourceIdentifier, error)
}

// RestoreItemAction is the plugin-side v1 contract.
type RestoreItemAction interface {
	AppliesTo() (*proto.ResourceSelector, error)
	Execute(item, restore, itemFromBackup []byte) (*ActionResult, error)
}

// ActionInput is what a host passes to any item action's Execute; Owner is
// the Backup (backup actions) or Restore (restore actions) as JSON.
type ActionInput struct {
	Item           []byte
	Owner          []byte
	ItemFromBackup []byte
}

// ActionResult is the union of the v1/v2 backup/restore Execute responses.
type ActionResult struct {
	Item               []byte
	AdditionalItems    []*proto.ResourceIdentifier
	OperationID        string
	PostOperationItems []*proto.ResourceIdentifier
	SkipRestore        bool
}

// ActionClient is the host-side view of the four item-action kinds.
type ActionClient interface {
	AppliesTo() (*proto.ResourceSelector, error)
	Execute(in ActionInput) (*ActionResult, error)
}

// ActionDispenser hands out an ActionClient bound to one plugin name.
type ActionDispenser interface {
	ClientFor(name string) ActionClient
}

type dispenserFunc func(name string) ActionClient

func (f dispenserFunc) ClientFor(name string) ActionClient { return f(name) }

// BackupItemActionPlugin is the go-plugin GRPCPlugin for BackupItemAction v1.
type BackupItemActionPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Reg *Registry
}

// GRPCServer registers generated.BackupItemAction.
func (p *BackupItemActionPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	proto.RegisterBackupItemActionServer(s, &biaServer{reg: p.Reg})
	return nil
}

// GRPCClient returns an ActionDispenser.
func (p *BackupItemActionPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	client := proto.NewBackupItemActionClient(c)
	return dispenserFunc(func(name string) ActionClient { return &biaClient{client, name} }), nil
}

type biaClient struct {
	client proto.BackupItemActionClient
	name   string
}

func (c *biaClient) AppliesTo() (*proto.ResourceSelector, error) {
	res, err := c.client.AppliesTo(context.Background(), &proto.BackupItemActionAppliesToRequest{Plugin: c.name})
	if err != nil {
		return nil, FromGRPCError(err)
	}
	return res.ResourceSelector, nil
}

func (c *biaClient) Execute(in ActionInput) (*ActionResult, error) {
	res, err := c.client.Execute(context.Background(),
		&proto.ExecuteRequest{Plugin: c.name, Item: in.Item, Backup: in.Owner})
	if err != nil {
		return nil, FromGRPCError(err)
	}
	return &ActionResult{Item: res.Item, AdditionalItems: res.AdditionalItems}, nil
}

type biaServer struct {
	proto.UnimplementedBackupItemActionServer
	reg *Registry
}

func (s *biaServer) impl(name string) (BackupItemAction, error) {
	inst, err := s.reg.Get(KindBackupItemAction, name)
	if err != nil {
		return nil, err
	}
	return inst.(BackupItemAction), nil
}

func (s *biaServer) AppliesTo(_ context.Context, req *proto.BackupItemActionAppliesToRequest) (res *proto.BackupItemActionAppliesToResponse, err error) {
	defer recoverPanic(&err)
	action, err := s.impl(req.Plugin)
	if err != nil {
		return nil, NewGRPCError(err)
	}
	sel, err := action.AppliesTo()
	if err != nil {
		return nil, NewGRPCError(err)
	}
	return &proto.BackupItemActionAppliesToResponse{ResourceSelector: sel}, nil
}

func (s *biaServer) Execute(_ context.Context, req *proto.ExecuteRequest) (res *proto.ExecuteResponse, err error) {
	defer recoverPanic(&err)
	action, err := s.impl(req.Plugin)
	if err != nil {
		return nil, NewGRPCError(err)
	}
	item, additional, err := action.Execute(req.Item, req.Backup)
	if err != nil {
		return nil, NewGRPCError(err)
	}
	return &proto.ExecuteResponse{Item: item, AdditionalItems: additional}, nil
}

// BackupItemActionV2Plugin is the host-side GRPCPlugin for v2.BackupItemAction
// (the Go test plugin serves only v1, so there is no server half).
type BackupItemActionV2Plugin struct {
	plugin.NetRPCUnsupportedPlugin
}

// GRPCServer is not supported: the interop plugin serves v1 only.
func (p *BackupItemActionV2Plugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error { return nil }

// GRPCClient returns an ActionDispenser over v2.BackupItemAction.
func (p *BackupItemActionV2Plugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	client := protov2.NewBackupItemActionClient(c)
	return dispenserFunc(func(name string) ActionClient { return &biaV2Client{client, name} }), nil
}

type biaV2Client struct {
	client protov2.BackupItemActionClient
	name   string
}

func (c *biaV2Client) AppliesTo() (*proto.ResourceSelector, error) {
	res, err := c.client.AppliesTo(context.Background(), &protov2.BackupItemActionAppliesToRequest{Plugin: c.name})
	if err != nil {
		return nil, FromGRPCError(err)
	}
	return res.ResourceSelector, nil
}

func (c *biaV2Client) Execute(in ActionInput) (*ActionResult, error) {
	res, err := c.client.Execute(context.Background(),
		&protov2.ExecuteRequest{Plugin: c.name, Item: in.Item, Backup: in.Owner})
	if err != nil {
		return nil, FromGRPCError(err)
	}
	return &ActionResult{Item: res.Item, AdditionalItems: res.AdditionalItems,
		OperationID: res.OperationID, PostOperationItems: res.PostOperationItems}, nil
}
