"""The daemon's side of the protocol, for fake daemons that misbehave on
purpose (a wrong proof, answers held back) where the real one never would.
"""
from ipcd._proto import pb


class Frames:
    """Reads Requests from and writes Responses to one accepted socket."""

    def __init__(self, conn):
        self.conn = conn
        self.file = conn.makefile("rb")

    def request(self):
        size = int.from_bytes(self.file.read(4), "little")
        request = pb.Request()
        request.ParseFromString(self.file.read(size))
        return request

    def reply(self, request_id, fill):
        response = pb.Response(id=request_id)
        fill(response)
        data = response.SerializeToString()
        self.conn.sendall(len(data).to_bytes(4, "little") + data)

    def close(self):
        # The file holds the socket open too: close both, or the client
        # never sees the hang-up.
        self.file.close()
        self.conn.close()
