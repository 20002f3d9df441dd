package framework

import (
	"context"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	proto "veloro.io/interop/generated"
	protov2 "veloro.io/interop/generated/v2"
)

// RestoreItemActionPlugin is the go-plugin GRPCPlugin for RestoreItemAction v1.
type RestoreItemActionPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Reg *Registry
}

// GRPCServer registers generated.RestoreItemAction.
func (p *RestoreItemActionPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	proto.RegisterRestoreItemActionServer(s, &riaServer{reg: p.Reg})
	return nil
}

// GRPCClient returns an ActionDispenser.
func (p *RestoreItemActionPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	client := proto.NewRestoreItemActionClient(c)
	return dispenserFunc(func(name string) ActionClient { return &riaClient{client, name} }), nil
}

type riaClient struct {
	client proto.RestoreItemActionClient
	name   string
}

func (c *riaClient) AppliesTo() (*proto.ResourceSelector, error) {
	res, err := c.client.AppliesTo(context.Background(), &proto.RestoreItemActionAppliesToRequest{Plugin: c.name})
	if err != nil {
		return nil, FromGRPCError(err)
	}
	return res.ResourceSelector, nil
}

func (c *riaClient) Execute(in ActionInput) (*ActionResult, error) {
	res, err := c.client.Execute(context.Background(), &proto.RestoreItemActionExecuteRequest{
		Plugin: c.name, Item: in.Item, Restore: in.Owner, ItemFromBackup: in.ItemFromBackup})
	if err != nil {
		return nil, FromGRPCError(err)
	}
	return &ActionResult{Item: res.Item, AdditionalItems: res.AdditionalItems, SkipRestore: res.SkipRestore}, nil
}

type riaServer struct {
	proto.UnimplementedRestoreItemActionServer
	reg *Registry
}

func (s *riaServer) impl(name string) (RestoreItemAction, error) {
	inst, err := s.reg.Get(KindRestoreItemAction, name)
	if err != nil {
		return nil, err
	}
	return inst.(RestoreItemAction), nil
}

func (s *riaServer) AppliesTo(_ context.Context, req *proto.RestoreItemActionAppliesToRequest) (res *proto.RestoreItemActionAppliesToResponse, err error) {
	defer recoverPanic(&err)
	action, err := s.impl(req.Plugin)
	if err != nil {
		return nil, NewGRPCError(err)
	}
	sel, err := action.AppliesTo()
	if err != nil {
		return nil, NewGRPCError(err)
	}
	return &proto.RestoreItemActionAppliesToResponse{ResourceSelector: sel}, nil
}

func (s *riaServer) Execute(_ context.Context, req *proto.RestoreItemActionExecuteRequest) (res *proto.RestoreItemActionExecuteResponse, err error) {
	defer recoverPanic(&err)
	action, err := s.impl(req.Plugin)
	if err != nil {
		return nil, NewGRPCError(err)
	}
	out, err := action.Execute(req.Item, req.Restore, req.ItemFromBackup)
	if err != nil {
		return nil, NewGRPCError(err)
	}
	return &proto.RestoreItemActionExecuteResponse{
		Item: out.Item, AdditionalItems: out.AdditionalItems, SkipRestore: out.SkipRestore}, nil
}

// RestoreItemActionV2Plugin is the host-side GRPCPlugin for v2.RestoreItemAction.
type RestoreItemActionV2Plugin struct {
	plugin.NetRPCUnsupportedPlugin
}

// GRPCServer is not supported: the interop plugin serves v1 only.
func (p *RestoreItemActionV2Plugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error { return nil }

// GRPCClient returns an ActionDispenser over v2.RestoreItemAction.
func (p *RestoreItemActionV2Plugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	client := protov2.NewRestoreItemActionClient(c)
	return dispenserFunc(func(name string) ActionClient { return &riaV2Client{client, name} }), nil
}

type riaV2Client struct {
	client protov2.RestoreItemActionClient
	name   string
}

func (c *riaV2Client) AppliesTo() (*proto.ResourceSelector, error) {
	res, err := c.client.AppliesTo(context.Background(), &protov2.RestoreItemActionAppliesToRequest{Plugin: c.name})
	if err != nil {
		return nil, FromGRPCError(err)
	}
	return res.ResourceSelector, nil
}

func (c *riaV2Client) Execute(in ActionInput) (*ActionResult, error) {
	res, err := c.client.Execute(context.Background(), &protov2.RestoreItemActionExecuteRequest{
		Plugin: c.name, Item: in.Item, Restore: in.Owner, ItemFromBackup: in.ItemFromBackup})
	if err != nil {
		return nil, FromGRPCError(err)
	}
	return &ActionResult{Item: res.Item, AdditionalItems: res.AdditionalItems,
		OperationID: res.OperationID, SkipRestore: res.SkipRestore}, nil
}
