#include "state/record_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>

#include "state/crc32c.h"

namespace ipcd::state {
namespace {

static_assert(std::endian::native == std::endian::little,
              "state files are written in the machine's byte order, which "
              "is assumed little-endian");

constexpr char kLogMagic[8] = {'I', 'P', 'C', 'D', 'L', 'O', 'G', '1'};
constexpr char kSnapshotMagic[8] = {'I', 'P', 'C', 'D', 'S', 'N', 'P', '1'};
constexpr uint32_t kVersion = 1;

template <typename T>
void Put(std::string* out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out->append(bytes, sizeof(T));
}

template <typename T>
T Get(const std::string& bytes, uint64_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

const char* MagicOf(FileKind kind) {
  return kind == FileKind::kLog ? kLogMagic : kSnapshotMagic;
}

}  // namespace

std::string FileHeader(FileKind kind, uint64_t base_seq) {
  std::string header(MagicOf(kind), 8);
  Put<uint32_t>(&header, kVersion);
  Put<uint32_t>(&header, 0);
  Put<uint64_t>(&header, base_seq);
  Put<uint32_t>(&header, Crc32c(header));
  Put<uint32_t>(&header, 0);
  return header;
}

void FrameRecord(char* record, uint64_t seq, size_t payload_size) {
  const auto size = static_cast<uint32_t>(payload_size);
  std::memcpy(record + 8, &seq, 8);
  const uint32_t crc = Crc32c(0, record + 8, 8 + payload_size);
  std::memcpy(record, &size, 4);
  std::memcpy(record + 4, &crc, 4);
}

void AppendRecord(std::string* out, uint64_t seq, std::string_view payload) {
  const size_t at = out->size();
  out->resize(at + kRecordHeaderBytes);
  out->append(payload);
  FrameRecord(out->data() + at, seq, payload.size());
}

ipc::Result<RecordReader> RecordReader::Open(const std::string& path,
                                             FileKind kind) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ipc::ErrnoStatus("open " + path, errno);
  std::string bytes;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    bytes.reserve(static_cast<size_t>(st.st_size));
  }
  char chunk[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return ipc::ErrnoStatus("read " + path, err);
    }
    if (n == 0) break;
    bytes.append(chunk, static_cast<size_t>(n));
  }
  ::close(fd);
  return FromBytes(path, std::move(bytes), kind);
}

ipc::Result<RecordReader> RecordReader::FromBytes(std::string name,
                                                  std::string bytes,
                                                  FileKind kind) {
  const auto bad = [&](const std::string& what) {
    return ipc::Status(ipc::ErrorCode::kProtocolError,
                       name + ": not an ipcd " +
                           (kind == FileKind::kLog ? "log" : "snapshot") +
                           " file: " + what);
  };
  if (bytes.size() < kFileHeaderBytes) {
    return bad("only " + std::to_string(bytes.size()) +
               " bytes, shorter than its 32-byte header");
  }
  if (std::memcmp(bytes.data(), MagicOf(kind), 8) != 0) {
    return bad("wrong magic number");
  }
  if (Get<uint32_t>(bytes, 24) != Crc32c(0, bytes.data(), 24)) {
    return bad("header checksum mismatch");
  }
  if (const uint32_t version = Get<uint32_t>(bytes, 8); version != kVersion) {
    return bad("format version " + std::to_string(version) +
               ", this ipcd reads version " + std::to_string(kVersion));
  }
  RecordReader reader;
  reader.path_ = std::move(name);
  reader.base_seq_ = Get<uint64_t>(bytes, 16);
  reader.bytes_ = std::move(bytes);
  return reader;
}

bool RecordReader::ValidAt(uint64_t offset, Record* record,
                           std::string* why) const {
  const uint64_t size = bytes_.size();
  if (size - offset < kRecordHeaderBytes) {
    *why = "a record header cut short (" + std::to_string(size - offset) +
           " of 16 bytes)";
    return false;
  }
  const uint32_t length = Get<uint32_t>(bytes_, offset);
  if (length > kMaxRecordPayload) {
    *why = "a record length of " + std::to_string(length) +
           " bytes, more than any record can have";
    return false;
  }
  if (size - offset - kRecordHeaderBytes < length) {
    *why = "a record cut short (" +
           std::to_string(size - offset - kRecordHeaderBytes) + " of " +
           std::to_string(length) + " payload bytes)";
    return false;
  }
  const uint32_t crc = Crc32c(0, bytes_.data() + offset + 8, 8 + length);
  if (crc != Get<uint32_t>(bytes_, offset + 4)) {
    *why = "a record checksum mismatch";
    return false;
  }
  record->offset = offset;
  record->seq = Get<uint64_t>(bytes_, offset + 8);
  record->payload = std::string_view(bytes_).substr(
      offset + kRecordHeaderBytes, length);
  return true;
}

RecordReader::Next RecordReader::Read(Record* record) {
  if (!damage_.empty()) return Next::kDamaged;
  if (offset_ == bytes_.size()) return Next::kEnd;
  // Zeros to the end of the file: space the running daemon had reserved
  // (and mapped) for records, left so by a crash. No record starts with
  // zeros throughout: its checksum would not match.
  if (bytes_.find_first_not_of('\0', offset_) == std::string::npos) return Next::kEnd;
  if (!ValidAt(offset_, record, &damage_)) return Next::kDamaged;
  offset_ += kRecordHeaderBytes + record->payload.size();
  return Next::kRecord;
}

bool RecordReader::ValidRecordFollows(uint64_t seq) const {
  std::string ignored;
  Record record;
  for (uint64_t at = offset_ + 1; at + kRecordHeaderBytes <= bytes_.size();
       ++at) {
    if (Get<uint64_t>(bytes_, at + 8) == seq && ValidAt(at, &record, &ignored)) {
      return true;
    }
  }
  return false;
}

}  // namespace ipcd::state
