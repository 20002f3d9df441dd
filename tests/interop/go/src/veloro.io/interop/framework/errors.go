package framework

import (
	"fmt"
	"runtime"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	proto "veloro.io/interop/generated"
)

// RemoteError is a failed plugin call as the host sees it: the gRPC code, the
// message and the remote stack carried in a generated.Stack detail (if any).
type RemoteError struct {
	Code    codes.Code
	Message string
	Frames  []*proto.StackFrame
}

func (e *RemoteError) Error() string {
	if len(e.Frames) == 0 {
		return fmt.Sprintf("rpc error: code = %s desc = %s", e.Code, e.Message)
	}
	f := e.Frames[0]
	return fmt.Sprintf("rpc error: code = %s desc = %s (remote %s:%d %s)",
		e.Code, e.Message, f.File, f.Line, f.Function)
}

// FromGRPCError converts a client-side gRPC error into *RemoteError, decoding
// the generated.Stack detail (type URL type.googleapis.com/generated.Stack).
func FromGRPCError(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	out := &RemoteError{Code: st.Code(), Message: st.Message()}
	for _, d := range st.Details() {
		if stack, ok := d.(*proto.Stack); ok {
			out.Frames = append(out.Frames, stack.Frames...)
		}
	}
	return out
}

// NewGRPCError is the plugin-side convention Velero uses: status Unknown with
// the message and a generated.Stack detail naming where the error was made.
func NewGRPCError(err error) error {
	if err == nil {
		return nil
	}
	st := status.New(codes.Unknown, err.Error())
	withDetail, derr := st.WithDetails(callerStack(2))
	if derr != nil {
		return st.Err()
	}
	return withDetail.Err()
}

// NewPanicError reports a recovered panic the way go-plugin hosts expect:
// status Aborted "plugin panicked: ...".
func NewPanicError(recovered interface{}) error {
	return status.Errorf(codes.Aborted, "plugin panicked: %v", recovered)
}

func callerStack(skip int) *proto.Stack {
	pcs := make([]uintptr, 8)
	n := runtime.Callers(skip+1, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	stack := &proto.Stack{}
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "runtime.") {
			stack.Frames = append(stack.Frames, &proto.StackFrame{
				File: f.File, Line: int32(f.Line), Function: f.Function,
			})
		}
		if !more {
			break
		}
	}
	return stack
}
