// Whether a connection's peer is still there, asked of its socket without
// reading or waiting: what a server that waits on slow work checks, so that
// work nobody will read the answer of stops at once.
#pragma once

namespace etl {

// True when the peer of the connected socket `fd` has closed its end (its FIN,
// or a reset, has arrived; bytes it sent before still count as closed).
bool peer_closed(int fd) noexcept;

}  // namespace etl
