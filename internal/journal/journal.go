// Package journal is bitrader's durable memory: every order intent is written
// here, and fsynced, before it is sent, so that a crash can never make the bot
// forget an order it might have placed (design invariant 2). It also holds the
// client id sequence counters and small state blobs (risk breakers, position
// and PnL snapshots) that must survive restarts.
//
// The store is a single bbolt file. bbolt commits every write transaction
// with fsync (NoSync stays off), so a nil error from a write means the data
// is on disk.
package journal

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	boltErrors "go.etcd.io/bbolt/errors"

	"github.com/bitrader/bitrader/internal/fixed"
	"github.com/bitrader/bitrader/internal/trading"
)

// ErrLocked means another process holds the journal file: almost always a
// second bitrader running on the same data dir, which invariant 1 forbids.
var ErrLocked = errors.New("journal file is locked by another process")

// ErrNotFound is returned by Order and GetState for a missing key.
var ErrNotFound = errors.New("journal: not found")

// ErrClosed is returned by every method after Close.
var ErrClosed = errors.New("journal: closed")

var (
	bucketOrders = []byte("orders") // client id -> OrderRecord JSON
	bucketOpen   = []byte("open")   // client id -> nothing; index of non-final orders
	bucketSeq    = []byte("seq")    // prefix -> uint64 big endian, last issued
	bucketState  = []byte("state")  // key -> blob
)

// OrderRecord is the durable record of one order, keyed by ClientID.
type OrderRecord struct {
	ClientID string         `json:"clientId"`
	Epoch    uint64         `json:"epoch"`
	Seq      uint64         `json:"seq"`
	Intent   trading.Intent `json:"intent"`

	Status     trading.OrderStatus `json:"status"`
	ExchangeID string              `json:"exchangeId,omitempty"`
	FilledQty  fixed.Value         `json:"filledQty"`
	AvgPrice   fixed.Value         `json:"avgPrice"`
	Fee        fixed.Value         `json:"fee"` // cumulative, positive = paid

	// Ambiguous is set while the outcome of the place request is unknown
	// (timeout, reset, 5xx and the lookup did not find it yet); reconciliation
	// resolves it by client id.
	Ambiguous bool `json:"ambiguous,omitempty"`
	// NeverSent marks a Canceled order that the venue never saw (fenced, or
	// resolved by a not-found lookup). If the venue later reports it after
	// all, the venue wins.
	NeverSent bool `json:"neverSent,omitempty"`
	// Adopted marks an order first learnt from the venue, not from an intent.
	Adopted bool `json:"adopted,omitempty"`

	RejectCode   int    `json:"rejectCode,omitempty"`
	RejectReason string `json:"rejectReason,omitempty"`

	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// Open reports whether the order may still change on the venue.
func (r *OrderRecord) Open() bool { return !r.Status.Final() }

// Options tunes Open. The zero value is usable.
type Options struct {
	// LockTimeout bounds the wait for the file lock; default 1s. Past it Open
	// fails with ErrLocked instead of hanging forever.
	LockTimeout time.Duration
	// Observe, if set, receives the duration of every committed write
	// ("put_order", "create_order", "next_seq", "put_state",
	// "put_order_state", "prune"), fsync included.
	Observe func(op string, d time.Duration)
}

// Journal is a bbolt-backed store. It is safe for concurrent use.
type Journal struct {
	db      *bolt.DB
	observe func(op string, d time.Duration)
}

// Open opens or creates the journal file at path, creating its directory.
func Open(path string, opts Options) (*Journal, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("journal: create data dir for %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout, NoSync: false})
	if err != nil {
		if errors.Is(err, boltErrors.ErrTimeout) {
			return nil, fmt.Errorf("open journal %s: %w (waited %s; is another bitrader using this data dir?)", path, ErrLocked, opts.LockTimeout)
		}
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketOrders, bucketOpen, bucketSeq, bucketState} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("init journal %s: %w", path, err)
	}
	obs := opts.Observe
	if obs == nil {
		obs = func(string, time.Duration) {}
	}
	return &Journal{db: db, observe: obs}, nil
}

// Close flushes and releases the file lock.
func (j *Journal) Close() error {
	if err := j.db.Close(); err != nil {
		return fmt.Errorf("close journal: %w", err)
	}
	return nil
}

// Path returns the file path.
func (j *Journal) Path() string { return j.db.Path() }

func (j *Journal) update(op string, fn func(tx *bolt.Tx) error) error {
	start := time.Now() // latency metric only; not logic time
	err := j.db.Update(fn)
	if errors.Is(err, boltErrors.ErrDatabaseNotOpen) {
		err = ErrClosed
	}
	if err == nil {
		j.observe(op, time.Since(start))
	}
	return err
}

func putOrderTx(tx *bolt.Tx, r *OrderRecord) error {
	if r.ClientID == "" {
		return errors.New("order record without client id")
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode order %s: %w", r.ClientID, err)
	}
	key := []byte(r.ClientID)
	if err := tx.Bucket(bucketOrders).Put(key, b); err != nil {
		return err
	}
	open := tx.Bucket(bucketOpen)
	if r.Open() {
		return open.Put(key, nil)
	}
	return open.Delete(key)
}

// PutOrder writes (inserts or replaces) an order record durably.
func (j *Journal) PutOrder(r OrderRecord) error {
	if err := j.update("put_order", func(tx *bolt.Tx) error { return putOrderTx(tx, &r) }); err != nil {
		return fmt.Errorf("journal put order %s: %w", r.ClientID, err)
	}
	return nil
}

// CreateOrder allocates the next sequence number for prefix and writes the
// record that build makes from it, in one fsynced transaction: one disk sync
// on the submit path instead of two. If build fails nothing is written and
// the sequence number is not consumed.
func (j *Journal) CreateOrder(prefix string, build func(seq uint64) (OrderRecord, error)) (OrderRecord, error) {
	var rec OrderRecord
	err := j.update("create_order", func(tx *bolt.Tx) error {
		seq, err := nextSeqTx(tx, prefix)
		if err != nil {
			return err
		}
		rec, err = build(seq)
		if err != nil {
			return err
		}
		if tx.Bucket(bucketOrders).Get([]byte(rec.ClientID)) != nil {
			return fmt.Errorf("client id %s already journaled", rec.ClientID)
		}
		return putOrderTx(tx, &rec)
	})
	if err != nil {
		return OrderRecord{}, fmt.Errorf("journal create order (prefix %q): %w", prefix, err)
	}
	return rec, nil
}

// Order returns one record, or ErrNotFound.
func (j *Journal) Order(clientID string) (OrderRecord, error) {
	var rec OrderRecord
	err := j.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOrders).Get([]byte(clientID))
		if b == nil {
			return ErrNotFound
		}
		return json.Unmarshal(b, &rec)
	})
	if err != nil {
		return OrderRecord{}, fmt.Errorf("journal order %s: %w", clientID, err)
	}
	return rec, nil
}

// Orders returns the non-final orders if openOnly, else every record, in
// client id order.
func (j *Journal) Orders(openOnly bool) ([]OrderRecord, error) {
	var out []OrderRecord
	err := j.db.View(func(tx *bolt.Tx) error {
		orders := tx.Bucket(bucketOrders)
		decode := func(k, v []byte) error {
			var rec OrderRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode order %s: %w", k, err)
			}
			out = append(out, rec)
			return nil
		}
		if !openOnly {
			return orders.ForEach(decode)
		}
		return tx.Bucket(bucketOpen).ForEach(func(k, _ []byte) error {
			v := orders.Get(k)
			if v == nil {
				return fmt.Errorf("open index names missing order %s", k)
			}
			return decode(k, v)
		})
	})
	if err != nil {
		return nil, fmt.Errorf("journal list orders: %w", err)
	}
	return out, nil
}

// PruneFinal deletes final orders last updated before cutoff, so the file
// does not grow forever. It returns how many were deleted.
func (j *Journal) PruneFinal(cutoff time.Time) (int, error) {
	n := 0
	err := j.update("prune", func(tx *bolt.Tx) error {
		orders := tx.Bucket(bucketOrders)
		var del [][]byte
		err := orders.ForEach(func(k, v []byte) error {
			var rec OrderRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode order %s: %w", k, err)
			}
			if !rec.Open() && rec.Updated.Before(cutoff) {
				del = append(del, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range del {
			if err := orders.Delete(k); err != nil {
				return err
			}
		}
		n = len(del)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("journal prune: %w", err)
	}
	return n, nil
}

func nextSeqTx(tx *bolt.Tx, prefix string) (uint64, error) {
	b := tx.Bucket(bucketSeq)
	var n uint64
	if v := b.Get([]byte(prefix)); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	n++
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], n)
	return n, b.Put([]byte(prefix), buf[:])
}

// NextSeq returns the next sequence number for prefix (1, 2, ...), durably:
// a number once returned is never returned again, across restarts.
func (j *Journal) NextSeq(prefix string) (uint64, error) {
	var n uint64
	err := j.update("next_seq", func(tx *bolt.Tx) error {
		var err error
		n, err = nextSeqTx(tx, prefix)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("journal next seq %q: %w", prefix, err)
	}
	return n, nil
}

// PutState stores a small blob under key durably.
func (j *Journal) PutState(key string, value []byte) error {
	err := j.update("put_state", func(tx *bolt.Tx) error {
		return tx.Bucket(bucketState).Put([]byte(key), value)
	})
	if err != nil {
		return fmt.Errorf("journal put state %q: %w", key, err)
	}
	return nil
}

// PutOrderAndState writes an order record and a state blob in one fsynced
// transaction: either both are on disk or neither is. The order manager uses
// it when a fill changes both the order's cumulative filled quantity and the
// ledger snapshot, so a crash can never leave a fill recorded on the order
// but missing from the positions (a fill already on the order record is
// never booked again).
func (j *Journal) PutOrderAndState(r OrderRecord, key string, value []byte) error {
	err := j.update("put_order_state", func(tx *bolt.Tx) error {
		if err := putOrderTx(tx, &r); err != nil {
			return err
		}
		return tx.Bucket(bucketState).Put([]byte(key), value)
	})
	if err != nil {
		return fmt.Errorf("journal put order %s with state %q: %w", r.ClientID, key, err)
	}
	return nil
}

// GetState returns a copy of the blob under key, or ErrNotFound.
func (j *Journal) GetState(key string) ([]byte, error) {
	var out []byte
	err := j.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketState).Get([]byte(key))
		if v == nil {
			return ErrNotFound
		}
		out = append([]byte(nil), v...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("journal get state %q: %w", key, err)
	}
	return out, nil
}
