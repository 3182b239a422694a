package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"slices"
)

// maxPageSize is the largest first/last the real API accepts.
const maxPageSize = 100

// pageArgs are the Relay connection arguments.
type pageArgs struct {
	After  *string
	Before *string
	First  *int32
	Last   *int32
}

func (a pageArgs) validate() error {
	switch {
	case a.First != nil && a.Last != nil:
		return errInvalid("invalid args: only first or last can be used")
	case a.First == nil && a.Last == nil:
		return errInvalid("invalid args: either first or last must be specified")
	case a.First != nil && (*a.First < 0 || *a.First > maxPageSize):
		return errInvalid("invalid args: first must be between 0-%d", maxPageSize)
	case a.Last != nil && (*a.Last < 0 || *a.Last > maxPageSize):
		return errInvalid("invalid args: last must be between 0-%d", maxPageSize)
	case a.After != nil && a.Before != nil:
		return errInvalid("invalid args: only after or before can be used")
	}
	return nil
}

type pageInfo struct {
	EndCursor       *string
	StartCursor     *string
	HasNextPage     bool
	HasPreviousPage bool
}

type connection[T any] struct {
	TotalCount int32
	PageInfo   *pageInfo
	Edges      *[]*edge[T]
}

type edge[T any] struct {
	Cursor string
	Node   T
}

// cursor is opaque to clients: base64 of ["id", <id>, <sort>].
func makeCursor(id, sort string) string {
	b, _ := json.Marshal([]string{"id", id, sort})
	return base64.StdEncoding.EncodeToString(b)
}

func parseCursor(c, sort string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(c)
	var parts []string
	if err == nil {
		err = json.Unmarshal(b, &parts)
	}
	if err != nil || len(parts) != 3 || parts[0] != "id" {
		return "", errInvalid("invalid cursor: %s", c)
	}
	if parts[2] != sort {
		return "", errInvalid("sort by argument does not match cursor")
	}
	return parts[1], nil
}

// paginate pages items (already filtered and sorted) with Relay semantics.
// key is the stable id of an item; build turns an item into its node.
func paginate[I any, T any](items []I, key func(I) string, args pageArgs, sort string, build func(I) T) (*connection[T], error) {
	if err := args.validate(); err != nil {
		return nil, err
	}
	start, end := 0, len(items)
	indexOf := func(c string) (int, error) {
		id, err := parseCursor(c, sort)
		if err != nil {
			return 0, err
		}
		i := slices.IndexFunc(items, func(it I) bool { return key(it) == id })
		if i < 0 {
			return 0, errInvalid("invalid cursor: the item it points to no longer exists")
		}
		return i, nil
	}
	if args.After != nil {
		i, err := indexOf(*args.After)
		if err != nil {
			return nil, err
		}
		start = i + 1
	}
	if args.Before != nil {
		i, err := indexOf(*args.Before)
		if err != nil {
			return nil, err
		}
		end = i
	}
	hasNext, hasPrev := false, start > 0
	if args.First != nil {
		if n := int(*args.First); end-start > n {
			end = start + n
			hasNext = true
		}
	} else if args.Last != nil {
		if n := int(*args.Last); end-start > n {
			start = end - n
			hasPrev = true
		}
	}
	if args.Before != nil && end < len(items) {
		hasNext = true
	}
	edges := make([]*edge[T], 0, end-start)
	for _, it := range items[start:end] {
		edges = append(edges, &edge[T]{Cursor: makeCursor(key(it), sort), Node: build(it)})
	}
	pi := &pageInfo{HasNextPage: hasNext, HasPreviousPage: hasPrev}
	if len(edges) > 0 {
		pi.StartCursor = &edges[0].Cursor
		pi.EndCursor = &edges[len(edges)-1].Cursor
	}
	return &connection[T]{TotalCount: int32(len(items)), PageInfo: pi, Edges: &edges}, nil
}

// sortItems orders records by a sort enum value: *_ASC / *_DESC on created
// or updated time, full path or group level, defaulting to insertion order.
func sortItems[I any](items []I, sort *string, m func(I) Meta, path func(I) string) string {
	name := ""
	if sort != nil {
		name = *sort
	}
	cmpSeq := func(a, b I) int { return int(m(a).Seq - m(b).Seq) }
	var cmp func(a, b I) int
	desc := len(name) > 5 && name[len(name)-5:] == "_DESC"
	switch {
	case name == "":
		cmp = cmpSeq
	case len(name) >= 10 && name[:10] == "CREATED_AT":
		cmp = cmpSeq
	case len(name) >= 10 && name[:10] == "UPDATED_AT":
		cmp = func(a, b I) int {
			if c := m(a).UpdatedAt.Compare(m(b).UpdatedAt); c != 0 {
				return c
			}
			return cmpSeq(a, b)
		}
	case len(name) >= 9 && name[:9] == "FULL_PATH":
		cmp = func(a, b I) int {
			if pa, pb := path(a), path(b); pa != pb {
				if pa < pb {
					return -1
				}
				return 1
			}
			return cmpSeq(a, b)
		}
	case len(name) >= 11 && name[:11] == "GROUP_LEVEL":
		cmp = func(a, b I) int {
			if la, lb := len(ancestors(path(a))), len(ancestors(path(b))); la != lb {
				return la - lb
			}
			return cmpSeq(a, b)
		}
	default:
		cmp = cmpSeq
	}
	slices.SortStableFunc(items, func(a, b I) int {
		if desc {
			return cmp(b, a)
		}
		return cmp(a, b)
	})
	return name
}
