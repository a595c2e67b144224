#include "fanout_queue.hpp"

#include "wire/batch.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace grav::zmq {

bool FanoutQueue::travels_alone(const Message& message) noexcept {
    return wire::batch_prefix_size + wire::record_size(message.payload_size()) > wire::max_batch_bytes;
}

FanoutQueue::Batch FanoutQueue::encode_alone(const Message& message) {
    Batch batch;
    batch.type = message.type();
    // Numbered 0 for now: push() writes the real number under the lock.
    const std::array record{wire::Record{wire::header_of(message, 0), message.payload()}};
    batch.frame = wire::encode_batch(record);
    batch.count = 1;
    return batch;
}

void FanoutQueue::push(const Message& message, std::optional<Batch> encoded) {
    if (auto ok = wire::check_data(message); !ok) {
        Batch rejected;
        rejected.type = message.type();
        rejected.rejected = ok.error().reason();
        batches_.push_back(std::move(rejected));
        return;
    }
    if (encoded) {
        encoded->first_seq = ++last_seq(encoded->type);
        wire::set_record_seq(std::span(encoded->frame).subspan(wire::batch_prefix_size), encoded->first_seq);
        batches_.push_back(std::move(*encoded));
        ++messages_;
        return;
    }
    const std::size_t record = wire::record_size(message.payload_size());
    Batch& batch = open_batch(message.type(), record);
    const std::size_t at = batch.frame.size();
    batch.frame.resize(at + record);
    wire::write_record(std::span(batch.frame).subspan(at), wire::header_of(message, ++*open_seq_),
                       message.payload());
    ++batch.count;
    ++messages_;
}

FanoutQueue::Batch& FanoutQueue::open_batch(const std::string& type, std::size_t record) {
    // A batch is a run of one type, bounded in records and bytes (batch.hpp);
    // a record larger than the bound travels alone.
    if (!batches_.empty()) {
        Batch& last = batches_.back();
        if (last.rejected.empty() && last.type == type && last.count < wire::max_batch_records &&
            last.frame.size() + record <= wire::max_batch_bytes) {
            return last;
        }
    }
    Batch batch;
    batch.type = type;
    open_seq_ = &last_seq(type);
    batch.first_seq = *open_seq_ + 1;
    if (!spares_.empty()) {
        batch.frame = std::move(spares_.back());
        spares_.pop_back();
    }
    batch.frame.reserve(std::max(wire::max_batch_bytes, wire::batch_prefix_size + record));
    batch.frame.resize(wire::batch_prefix_size);
    batches_.push_back(std::move(batch));
    return batches_.back();
}

std::uint64_t& FanoutQueue::last_seq(const std::string& type) {
    auto seq = last_seq_.find(type);
    if (seq == last_seq_.end()) seq = last_seq_.emplace(type, 0).first;
    return seq->second;
}

void FanoutQueue::take(std::deque<Batch>& into) {
    for (auto& batch : batches_) {
        if (batch.rejected.empty()) wire::write_batch_prefix(batch.frame, batch.count);
        into.push_back(std::move(batch));
    }
    batches_.clear();
    messages_ = 0;
}

void FanoutQueue::recycle(std::vector<std::vector<std::byte>>& frames) {
    // What is not kept stays in `frames` (moved-from ones empty).
    for (std::size_t i = frames.size(); i-- > 0 && spares_.size() < spares_kept;) {
        if (frames[i].capacity() > spare_capacity_max) continue;
        spares_.push_back(std::move(frames[i]));
        spares_.back().clear();
    }
}

}  // namespace grav::zmq
