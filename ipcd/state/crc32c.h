// CRC-32C (Castagnoli), the checksum of every record in ipcd's state files.
// Uses the SSE4.2 crc32 instruction when the CPU has it, a table otherwise;
// both give the same values (crc32c("123456789") == 0xE3069283).
//
// Thread safety: pure functions.
#ifndef IPCD_STATE_CRC32C_H_
#define IPCD_STATE_CRC32C_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ipcd::state {

// Extends crc (the value of the bytes before data; 0 to start) by data.
uint32_t Crc32c(uint32_t crc, const void* data, size_t size);
inline uint32_t Crc32c(std::string_view bytes) {
  return Crc32c(0, bytes.data(), bytes.size());
}

}  // namespace ipcd::state

#endif  // IPCD_STATE_CRC32C_H_
