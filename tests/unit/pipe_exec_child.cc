// Started by pipe_test through execv(): turns the URL it is given back into
// a channel (ipc::Connect on "pipe:?fd=N") and echoes one message reversed.
#include <algorithm>
#include <chrono>
#include <string>

#include "ipc/channel.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  auto channel = ipc::Connect(argv[1]);
  if (!channel.ok()) return 3;
  auto message = channel->Receive(std::chrono::seconds(10));
  if (!message.ok()) return 4;
  std::reverse(message->begin(), message->end());
  return channel->Send(*message).ok() ? 0 : 5;
}
