// The framing shared by ipcd's state files (the log and the snapshot):
// a 32-byte file header, then records, each a 16-byte header and a
// payload (a serialized v1.StateRecord):
//
//   file header  0 magic[8] ("IPCDLOG1" / "IPCDSNP1")  8 u32 version (1)
//                12 u32 0  16 u64 base_seq  24 u32 crc32c(bytes 0..23)
//                28 u32 0
//   record       0 u32 payload length  4 u32 crc32c(bytes 8.. of the
//                record: seq and payload)  8 u64 seq  16 payload
//
// Integers are little-endian. A log's base_seq is the sequence number its
// first record follows; a snapshot's is the last log record it contains.
// Sequence numbers rise by one from record to record, across log files.
//
// Thread safety: RecordReader is a plain value; the functions are pure.
#ifndef IPCD_STATE_RECORD_FILE_H_
#define IPCD_STATE_RECORD_FILE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "ipc/result.h"

namespace ipcd::state {

enum class FileKind { kLog, kSnapshot };

inline constexpr size_t kFileHeaderBytes = 32;
inline constexpr size_t kRecordHeaderBytes = 16;
// No record is larger: the biggest is one request (max_frame_bytes is at
// most 64 MiB) or one snapshot chunk.
inline constexpr uint32_t kMaxRecordPayload = 256u << 20;

// The 32 bytes that start a file of kind.
std::string FileHeader(FileKind kind, uint64_t base_seq);
// Fills in the header (record[0..16)) of a record whose payload_size bytes
// of payload follow it (record[16..]).
void FrameRecord(char* record, uint64_t seq, size_t payload_size);
// Appends one framed record to *out.
void AppendRecord(std::string* out, uint64_t seq, std::string_view payload);

// A record found by RecordReader; payload points into the reader's bytes.
struct Record {
  uint64_t seq = 0;
  uint64_t offset = 0;  // Where its header starts in the file.
  std::string_view payload;
};

// Reads a whole state file and walks its records.
class RecordReader {
 public:
  enum class Next { kRecord, kEnd, kDamaged };

  // Reads path and checks its header. kNotFound when it does not exist,
  // kProtocolError naming the file when its header is not one of kind.
  static ipc::Result<RecordReader> Open(const std::string& path,
                                        FileKind kind);
  // Same, over bytes already in memory (the fuzz target's way in).
  static ipc::Result<RecordReader> FromBytes(std::string name,
                                             std::string bytes, FileKind kind);

  // The next record (kRecord), the clean end of the file (kEnd: its end,
  // or only zero bytes from here on, log space reserved ahead), or a
  // record that is cut short or fails its checksum (kDamaged: offset() is
  // where it starts and damage() says what is wrong). After kDamaged,
  // Read keeps returning kDamaged.
  Next Read(Record* record);

  // After kDamaged: whether a whole, valid record of sequence number seq
  // starts anywhere after the damage. Tells a torn last record (nothing
  // valid follows it) from damage in the middle of the file.
  bool ValidRecordFollows(uint64_t seq) const;

  const std::string& path() const { return path_; }
  uint64_t base_seq() const { return base_seq_; }
  uint64_t offset() const { return offset_; }
  uint64_t size() const { return bytes_.size(); }
  const std::string& damage() const { return damage_; }

 private:
  RecordReader() = default;
  // The record at offset, if it is whole and its checksum matches.
  bool ValidAt(uint64_t offset, Record* record, std::string* why) const;

  std::string path_;
  std::string bytes_;
  uint64_t base_seq_ = 0;
  uint64_t offset_ = kFileHeaderBytes;
  std::string damage_;
};

}  // namespace ipcd::state

#endif  // IPCD_STATE_RECORD_FILE_H_
