package framework

import (
	"context"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	proto "veloro.io/interop/generated"
)

// PluginListerPlugin is the go-plugin GRPCPlugin for generated.PluginLister.
type PluginListerPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Reg *Registry
}

// GRPCServer registers generated.PluginLister.
func (p *PluginListerPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	proto.RegisterPluginListerServer(s, &listerServer{reg: p.Reg})
	return nil
}

// GRPCClient returns a *PluginListerClient.
func (p *PluginListerPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return &PluginListerClient{client: proto.NewPluginListerClient(c)}, nil
}

// PluginListerClient lists the plugins a process serves.
type PluginListerClient struct{ client proto.PluginListerClient }

// ListPlugins returns the (command, kind, name) triples of the process.
func (c *PluginListerClient) ListPlugins() ([]*proto.PluginIdentifier, error) {
	res, err := c.client.ListPlugins(context.Background(), &proto.Empty{})
	if err != nil {
		return nil, FromGRPCError(err)
	}
	return res.Plugins, nil
}

type listerServer struct {
	proto.UnimplementedPluginListerServer
	reg *Registry
}

func (s *listerServer) ListPlugins(context.Context, *proto.Empty) (*proto.ListPluginsResponse, error) {
	res := &proto.ListPluginsResponse{}
	for _, id := range s.reg.Identifiers() {
		res.Plugins = append(res.Plugins, &proto.PluginIdentifier{Command: id[0], Kind: id[1], Name: id[2]})
	}
	return res, nil
}
