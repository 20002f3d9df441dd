"""generated.DeleteItemAction and v1.ItemBlockAction."""

from __future__ import annotations

import grpc

from veloro_sdk._proto.generated import DeleteItemAction_pb2 as dpb
from veloro_sdk._proto.generated import Shared_pb2
from veloro_sdk._proto.v1 import ItemBlockAction_pb2 as ipb
from veloro_sdk.contracts import DeleteItemActionExecuteRequest, ItemBlockActionRequest, PluginKind
from veloro_sdk.convert import rid_to_proto, selector_to_proto
from veloro_sdk.serve.servicers.base import Handlers, KindServicer, json_obj, rpc, unary

EMPTY = Shared_pb2.Empty()


class DeleteItemActionServicer(KindServicer):
    kind = PluginKind.DELETE_ITEM_ACTION
    service = "generated.DeleteItemAction"

    @rpc
    def AppliesTo(
        self, request: dpb.DeleteItemActionAppliesToRequest, context: grpc.ServicerContext
    ) -> dpb.DeleteItemActionAppliesToResponse:
        selector = self._impl(request.plugin).applies_to()
        return dpb.DeleteItemActionAppliesToResponse(ResourceSelector=selector_to_proto(selector))

    @rpc
    def Execute(
        self, request: dpb.DeleteItemActionExecuteRequest, context: grpc.ServicerContext
    ) -> Shared_pb2.Empty:
        self._impl(request.plugin).execute(
            DeleteItemActionExecuteRequest(item=json_obj(request.item), backup=json_obj(request.backup))
        )
        return EMPTY

    def handlers(self) -> Handlers:
        return {
            "AppliesTo": unary(
                self.AppliesTo, dpb.DeleteItemActionAppliesToRequest, dpb.DeleteItemActionAppliesToResponse
            ),
            "Execute": unary(self.Execute, dpb.DeleteItemActionExecuteRequest, Shared_pb2.Empty),
        }


class ItemBlockActionServicer(KindServicer):
    kind = PluginKind.ITEM_BLOCK_ACTION
    service = "v1.ItemBlockAction"

    @rpc
    def AppliesTo(
        self, request: ipb.ItemBlockActionAppliesToRequest, context: grpc.ServicerContext
    ) -> ipb.ItemBlockActionAppliesToResponse:
        selector = self._impl(request.plugin).applies_to()
        return ipb.ItemBlockActionAppliesToResponse(ResourceSelector=selector_to_proto(selector))

    @rpc
    def GetRelatedItems(
        self, request: ipb.ItemBlockActionGetRelatedItemsRequest, context: grpc.ServicerContext
    ) -> ipb.ItemBlockActionGetRelatedItemsResponse:
        related = self._impl(request.plugin).get_related_items(
            ItemBlockActionRequest(item=json_obj(request.item), backup=json_obj(request.backup))
        )
        return ipb.ItemBlockActionGetRelatedItemsResponse(relatedItems=[rid_to_proto(r) for r in related])

    def handlers(self) -> Handlers:
        return {
            "AppliesTo": unary(
                self.AppliesTo, ipb.ItemBlockActionAppliesToRequest, ipb.ItemBlockActionAppliesToResponse
            ),
            "GetRelatedItems": unary(
                self.GetRelatedItems,
                ipb.ItemBlockActionGetRelatedItemsRequest,
                ipb.ItemBlockActionGetRelatedItemsResponse,
            ),
        }
