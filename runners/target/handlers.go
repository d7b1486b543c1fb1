package target

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/engram/m18-gate/internal/version"
)

// confidenceInfo is Engram's ConfidenceInfo.
type confidenceInfo struct {
	Value     float32 `json:"value"`
	Category  string  `json:"category"`
	Reasoning string  `json:"reasoning"`
}

// newConfidence applies Engram's categories: > 0.7 High, > 0.4 Medium, else Low.
func newConfidence(v float32, reasoning string) confidenceInfo {
	c := "Low"
	switch {
	case v > 0.7:
		c = "High"
	case v > 0.4:
		c = "Medium"
	}
	return confidenceInfo{Value: v, Category: c, Reasoning: reasoning}
}

// resolveSpace picks the memory space as Engram does: the X-Memory-Space
// header, then the ?space= parameter, then the body's memory_space_id (already
// validated, "" when absent), else "default".
func resolveSpace(r *http.Request, body string) (string, error) {
	if h := r.Header.Get("X-Memory-Space"); h != "" {
		return h, checkSpace("X-Memory-Space", h)
	}
	if q := r.URL.Query().Get("space"); q != "" {
		return q, checkSpace("space", q)
	}
	if body != "" {
		return body, nil
	}
	return defaultSpace, nil
}

// openSpace resolves the request's memory space (see resolveSpace) and
// returns its id and the space, creating it on first use.
func (s *Server) openSpace(r *http.Request, bodySpace string) (string, *space, error) {
	id, err := resolveSpace(r, bodySpace)
	if err != nil {
		return "", nil, err
	}
	sp, _, err := s.store.space(id)
	return id, sp, err
}

// decodeRequest reads the request body (at most MaxBodyBytes) and decodes and
// validates it with decode.
func decodeRequest[T any](w http.ResponseWriter, r *http.Request, decode func([]byte) (T, error)) (T, error) {
	body, err := readBody(w, r)
	if err != nil {
		var zero T
		return zero, err
	}
	return decode(body)
}

// apiHandler is a handler that reports a rejected or failed request as an
// error; serveAPI writes that error as the JSON error response.
type apiHandler func(w http.ResponseWriter, r *http.Request) error

// serveAPI adapts h to http.HandlerFunc: a non-nil error from h is written
// with writeError (a *FieldError as itself, anything else as a 500).
func serveAPI(h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, err)
		}
	}
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"status":    "healthy",
		"service":   "m18-target",
		"version":   version.String(),
		"timestamp": time.Now().UTC(),
	})
}

func (s *Server) alive(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("OK\n"))
}

type rememberResponse struct {
	MemoryID           string         `json:"memory_id"`
	StorageConfidence  confidenceInfo `json:"storage_confidence"`
	ConsolidationState string         `json:"consolidation_state"`
	ObservedAt         time.Time      `json:"observed_at"`
	StoredAt           time.Time      `json:"stored_at"`
	AutoLinks          []any          `json:"auto_links"`
	SystemMessage      string         `json:"system_message"`
	MemorySpaceID      string         `json:"memory_space_id"`
}

func (s *Server) remember(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeRequest(w, r, decodeRemember)
	if err != nil {
		return err
	}
	return s.storeAndReply(w, r, in)
}

func (s *Server) simpleStore(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeRequest(w, r, decodeSimpleStore)
	if err != nil {
		return err
	}
	return s.storeAndReply(w, r, in)
}

func (s *Server) storeAndReply(w http.ResponseWriter, r *http.Request, in remember) error {
	spaceID, sp, err := s.openSpace(r, in.Space)
	if err != nil {
		return err
	}
	if in.ID == "" {
		in.ID = fmt.Sprintf("mem_%016x", splitmix64(s.opts.Seed^splitmix64(s.ids.Add(1))))
	}
	vec, source := in.Embedding, "supplied"
	if vec == nil {
		vec, source = contentEmbedding(in.Content), "derived from content"
	} else {
		normalize(vec)
	}
	now := time.Now().UTC()
	s.store.put(sp, memory{ID: in.ID, Content: in.Content, Confidence: in.Confidence,
		MemoryType: in.MemoryType, Tags: in.Tags, StoredAt: now}, vec)
	writeJSON(w, http.StatusCreated, rememberResponse{
		MemoryID:           in.ID,
		StorageConfidence:  newConfidence(in.Confidence, "stored in memory space "+strconv.Quote(spaceID)+"; embedding "+source),
		ConsolidationState: "Recent",
		ObservedAt:         now,
		StoredAt:           now,
		AutoLinks:          []any{},
		SystemMessage:      "Memory stored by the m18 reference target.",
		MemorySpaceID:      spaceID,
	})
	return nil
}

// memoryResult is Engram's MemoryResult.
type memoryResult struct {
	ID                   string         `json:"id"`
	Content              string         `json:"content"`
	Confidence           confidenceInfo `json:"confidence"`
	ActivationLevel      float32        `json:"activation_level"`
	SimilarityScore      float32        `json:"similarity_score"`
	RetrievalPath        string         `json:"retrieval_path"`
	ObservedAt           time.Time      `json:"observed_at"`
	LastAccess           *time.Time     `json:"last_access"`
	Tags                 []string       `json:"tags"`
	MemoryType           string         `json:"memory_type"`
	RelevanceExplanation string         `json:"relevance_explanation"`
}

type recallResponse struct {
	Memories struct {
		Vivid         []memoryResult `json:"vivid"`
		Associated    []memoryResult `json:"associated"`
		Reconstructed []memoryResult `json:"reconstructed"`
	} `json:"memories"`
	RecallConfidence confidenceInfo `json:"recall_confidence"`
	QueryAnalysis    struct {
		UnderstoodIntent string   `json:"understood_intent"`
		SearchStrategy   string   `json:"search_strategy"`
		CognitiveLoad    string   `json:"cognitive_load"`
		Suggestions      []string `json:"suggestions"`
	} `json:"query_analysis"`
	Metadata struct {
		TotalMemoriesSearched int    `json:"total_memories_searched"`
		ActivationSpreadHops  int    `json:"activation_spread_hops"`
		ProcessingTimeMS      int64  `json:"processing_time_ms"`
		ProcessingTimeUS      int64  `json:"processing_time_us"`
		MemorySystemLoad      string `json:"memory_system_load"`
		MemorySpaceID         string `json:"memory_space_id"`
	} `json:"metadata"`
	SystemMessage string `json:"system_message"`
}

// recall serves GET /api/v1/memories/recall: by embedding (exact cosine
// similarity over the space) or by query text (fraction of terms matched).
// Results at similarity >= 0.9 are vivid, >= 0.7 associated, the rest
// reconstructed.
func (s *Server) recall(w http.ResponseWriter, r *http.Request) error {
	began := time.Now()
	q := r.URL.Query()
	threshold := float32(0.5)
	if v := q.Get("threshold"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fieldErrorf("threshold", "must be a number in [0, 1] (got %q)", clip(v, 24))
		}
		if threshold, err = checkUnit("threshold", f); err != nil {
			return err
		}
	}
	k, err := intParam(q.Get("max_results"), "max_results", 10, maxResultsLimit)
	if err != nil {
		return err
	}
	spaceID, err := resolveSpace(r, "")
	if err != nil {
		return err
	}
	emb, text := q.Get("embedding"), q.Get("query")
	var vec []float32
	switch {
	case emb != "":
		if vec, _, err = parseVector("embedding", emb, false); err != nil {
			return err
		}
		normalize(vec)
	case strings.TrimSpace(text) == "":
		return fieldErrorf("query", "recall needs query=<text> or embedding=<JSON array of %d numbers>", Dim)
	}
	sp, _, err := s.store.space(spaceID)
	if err != nil {
		return err
	}
	var hits []hit
	var searched int
	var resp recallResponse
	if vec != nil {
		hits, searched = s.store.recallVector(sp, vec, threshold, k)
		resp.QueryAnalysis.UnderstoodIntent = "similarity search with a " + strconv.Itoa(Dim) + "-dimensional embedding"
		resp.QueryAnalysis.SearchStrategy = "exact cosine similarity (brute force)"
	} else {
		hits, _, searched = s.store.recallText(sp, queryTerms(text), threshold, k)
		resp.QueryAnalysis.UnderstoodIntent = "text query " + strconv.Quote(clip(text, 80))
		resp.QueryAnalysis.SearchStrategy = "term match (fraction of query terms found)"
	}
	resp.Memories.Vivid, resp.Memories.Associated, resp.Memories.Reconstructed = []memoryResult{}, []memoryResult{}, []memoryResult{}
	for _, h := range hits {
		m := memoryResult{
			ID: h.mem.ID, Content: h.mem.Content,
			Confidence:      newConfidence(h.mem.Confidence, "confidence given at storage"),
			ActivationLevel: h.score, SimilarityScore: h.score,
			ObservedAt: h.mem.StoredAt, Tags: nonNil(h.mem.Tags), MemoryType: h.mem.MemoryType,
			RelevanceExplanation: fmt.Sprintf("similarity %.3f >= threshold %.3f", h.score, threshold),
		}
		switch {
		case h.score >= 0.9:
			m.RetrievalPath = "direct"
			resp.Memories.Vivid = append(resp.Memories.Vivid, m)
		case h.score >= 0.7:
			m.RetrievalPath = "similarity"
			resp.Memories.Associated = append(resp.Memories.Associated, m)
		default:
			m.RetrievalPath = "reconstruction"
			resp.Memories.Reconstructed = append(resp.Memories.Reconstructed, m)
		}
	}
	best := float32(0)
	if len(hits) > 0 {
		best = hits[0].score
	}
	resp.RecallConfidence = newConfidence(clamp01(best), fmt.Sprintf("%d of %d memories at or above threshold %.3f (best %.3f)", len(hits), searched, threshold, best))
	resp.QueryAnalysis.CognitiveLoad = "Low"
	resp.QueryAnalysis.Suggestions = []string{}
	el := time.Since(began)
	resp.Metadata.TotalMemoriesSearched = searched
	resp.Metadata.ProcessingTimeMS = el.Milliseconds()
	resp.Metadata.ProcessingTimeUS = el.Microseconds()
	resp.Metadata.MemorySystemLoad = "normal"
	resp.Metadata.MemorySpaceID = spaceID
	resp.SystemMessage = "Recall by the m18 reference target."
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// searchResult is one entry of GET /api/v1/memories/search.
type searchResult struct {
	ID         string    `json:"id"`
	Content    string    `json:"content"`
	Confidence float32   `json:"confidence"`
	MemoryType string    `json:"memory_type"`
	Timestamp  time.Time `json:"timestamp"`
}

// search serves GET /api/v1/memories/search?query=&limit=: memories holding
// any query term, most terms first; an empty query matches every memory.
func (s *Server) search(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := intParam(q.Get("limit"), "limit", 10, maxResultsLimit)
	if err != nil {
		return err
	}
	_, sp, err := s.openSpace(r, "")
	if err != nil {
		return err
	}
	hits, matched, _ := s.store.recallText(sp, queryTerms(q.Get("query")), 0, limit)
	out := make([]searchResult, len(hits))
	for i, h := range hits {
		out[i] = searchResult{ID: h.mem.ID, Content: h.mem.Content, Confidence: h.mem.Confidence,
			MemoryType: h.mem.MemoryType, Timestamp: h.mem.StoredAt}
	}
	writeJSON(w, http.StatusOK, map[string]any{"memories": out, "total": matched})
	return nil
}

// memoryRecord is one memory as GET /api/v1/memories/{id} and
// GET /api/v1/memories?id= return it.
type memoryRecord struct {
	ID            string         `json:"id"`
	Content       string         `json:"content"`
	Confidence    confidenceInfo `json:"confidence"`
	MemoryType    string         `json:"memory_type"`
	Tags          []string       `json:"tags"`
	Timestamp     time.Time      `json:"timestamp"`
	MemorySpaceID string         `json:"memory_space_id"`
}

func newMemoryRecord(m memory, spaceID string) memoryRecord {
	return memoryRecord{ID: m.ID, Content: m.Content, Confidence: newConfidence(m.Confidence, "confidence given at storage"),
		MemoryType: m.MemoryType, Tags: nonNil(m.Tags), Timestamp: m.StoredAt, MemorySpaceID: spaceID}
}

// getMemory serves GET /api/v1/memories/{id}.
func (s *Server) getMemory(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	spaceID, err := resolveSpace(r, "")
	if err != nil {
		return err
	}
	var m memory
	found := false
	if sp := s.store.lookup(spaceID); sp != nil {
		m, found = s.store.get(sp, id)
	}
	if !found {
		return &FieldError{Status: http.StatusNotFound, Code: "not_found", Field: "id",
			Message: fmt.Sprintf("no memory %q in memory space %q; check the id and the X-Memory-Space header or ?space=", clip(id, 80), spaceID)}
	}
	writeJSON(w, http.StatusOK, newMemoryRecord(m, spaceID))
	return nil
}

// getMemories serves GET /api/v1/memories?id=a&id=b…: up to
// maxResultsLimit memories by id in one request, in the order asked, and
// the ids not found. (A reference-target extension: it lets a client read
// many memories in the order it chooses without a request's own cost per
// memory.)
func (s *Server) getMemories(w http.ResponseWriter, r *http.Request) error {
	ids := r.URL.Query()["id"]
	if len(ids) == 0 || len(ids) > maxResultsLimit {
		return fieldErrorf("id", "give 1 to %d memory ids as id=<id>&id=<id>… (got %d)", maxResultsLimit, len(ids))
	}
	spaceID, err := resolveSpace(r, "")
	if err != nil {
		return err
	}
	out := struct {
		Memories      []memoryRecord `json:"memories"`
		Missing       []string       `json:"missing"`
		MemorySpaceID string         `json:"memory_space_id"`
	}{Memories: make([]memoryRecord, 0, len(ids)), Missing: []string{}, MemorySpaceID: spaceID}
	sp := s.store.lookup(spaceID)
	for _, id := range ids {
		if sp != nil {
			if m, ok := s.store.get(sp, id); ok {
				out.Memories = append(out.Memories, newMemoryRecord(m, spaceID))
				continue
			}
		}
		out.Missing = append(out.Missing, id)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type episode struct {
	ID                 string    `json:"id"`
	When               time.Time `json:"when"`
	What               string    `json:"what"`
	WhereLocation      *string   `json:"where_location"`
	Who                []string  `json:"who"`
	EncodingConfidence float32   `json:"encoding_confidence"`
}

type attribution struct {
	Source     string  `json:"source"`
	Confidence float32 `json:"confidence"`
}

type hypothesis struct {
	Episode    episode `json:"episode"`
	Confidence float32 `json:"confidence"`
}

type completeResponse struct {
	CompletedEpisode        episode                `json:"completed_episode"`
	CompletionConfidence    confidenceInfo         `json:"completion_confidence"`
	SourceAttribution       map[string]attribution `json:"source_attribution"`
	AlternativeHypotheses   []hypothesis           `json:"alternative_hypotheses"`
	MetacognitiveConfidence confidenceInfo         `json:"metacognitive_confidence"`
	ReconstructionStats     struct {
		CA3Iterations       int      `json:"ca3_iterations"`
		ConvergenceAchieved bool     `json:"convergence_achieved"`
		PatternSources      []string `json:"pattern_sources"`
		PlausibilityScore   float32  `json:"plausibility_score"`
	} `json:"reconstruction_stats"`
	MemoriesSearched int    `json:"memories_searched"`
	MemorySpaceID    string `json:"memory_space_id"`
}

// complete serves POST /api/v1/complete. With a partial embedding it ranks
// memories by cosine similarity over the known dimensions, then (CA3-like)
// fills the unknown dimensions from the similarity-weighted mean of the best
// hypotheses and ranks again with the completed vector, until the best
// hypothesis is stable or config.max_iterations passes have run. With only
// known_fields it ranks by the terms of their values. Each pass is a full
// O(N·768) scan.
func (s *Server) complete(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeRequest(w, r, decodeComplete)
	if err != nil {
		return err
	}
	spaceID, sp, err := s.openSpace(r, in.Space)
	if err != nil {
		return err
	}
	k := in.NumHypotheses
	var hits []hit
	var searched int
	iterations, converged := 1, true
	if in.Partial != nil {
		q := in.Partial
		mask := make([]float32, Dim)
		for i := range mask {
			if in.Known == nil || in.Known[i] {
				mask[i] = 1
			} else {
				q[i] = 0
			}
		}
		normalize(q)
		hits, searched = s.store.recallMasked(sp, q, mask, k)
		if in.Known != nil && len(hits) > 0 {
			converged = false
			x, row := make([]float32, Dim), make([]float32, Dim)
			for iterations < in.MaxIterations && !converged {
				clear(x)
				var wsum float32
				for _, h := range hits {
					wt := max(h.score, 0) + 1e-6
					if s.store.vectorOf(sp, h.mem.ID, row) {
						for i, v := range row {
							x[i] += wt * v
						}
						wsum += wt
					}
				}
				for i := range x {
					if mask[i] == 1 {
						x[i] = q[i]
					} else if wsum > 0 {
						x[i] /= wsum
					}
				}
				normalize(x)
				next, _ := s.store.recallVector(sp, x, -2, k)
				iterations++
				converged = len(next) > 0 && next[0].mem.ID == hits[0].mem.ID
				hits = next
			}
		}
	} else {
		var terms []string
		for _, v := range in.KnownFields {
			terms = append(terms, queryTerms(v)...)
		}
		hits, _, searched = s.store.recallText(sp, terms, 0, k)
	}
	if len(hits) == 0 {
		return &FieldError{Status: http.StatusUnprocessableEntity, Code: "insufficient_evidence", Field: "partial_episode",
			Message: fmt.Sprintf("memory space %q holds no memory to complete from (%d searched); store memories first or send a partial_embedding", spaceID, searched)}
	}
	best := hits[0]
	conf := clamp01(best.score)
	var resp completeResponse
	resp.CompletedEpisode = toEpisode(best.mem, in.KnownFields)
	gate := "above"
	if conf < in.CA1Threshold {
		gate = "below"
	}
	resp.CompletionConfidence = newConfidence(conf, fmt.Sprintf("best match %s at similarity %.3f, %s the CA1 threshold %.2f", best.mem.ID, best.score, gate, in.CA1Threshold))
	resp.SourceAttribution = map[string]attribution{"what": {Source: "recalled", Confidence: conf}}
	for key := range in.KnownFields {
		resp.SourceAttribution[key] = attribution{Source: "cue", Confidence: 1}
	}
	if in.Partial != nil && in.KnownDims < Dim {
		resp.SourceAttribution["embedding"] = attribution{Source: "reconstructed", Confidence: conf}
	}
	resp.AlternativeHypotheses = []hypothesis{}
	for _, h := range hits[1:] {
		resp.AlternativeHypotheses = append(resp.AlternativeHypotheses, hypothesis{Episode: toEpisode(h.mem, in.KnownFields), Confidence: clamp01(h.score)})
	}
	resp.MetacognitiveConfidence = newConfidence(conf*in.CueStrength, fmt.Sprintf("completion confidence scaled by cue strength %.2f", in.CueStrength))
	resp.ReconstructionStats.CA3Iterations = iterations
	resp.ReconstructionStats.ConvergenceAchieved = converged
	for _, h := range hits {
		resp.ReconstructionStats.PatternSources = append(resp.ReconstructionStats.PatternSources, h.mem.ID)
	}
	resp.ReconstructionStats.PlausibilityScore = conf
	resp.MemoriesSearched = searched
	resp.MemorySpaceID = spaceID
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func toEpisode(m memory, known map[string]string) episode {
	e := episode{ID: m.ID, When: m.StoredAt, What: m.Content, EncodingConfidence: m.Confidence}
	if v, ok := known["where"]; ok {
		e.WhereLocation = &v
	}
	if v, ok := known["who"]; ok {
		e.Who = strings.Fields(v)
	}
	return e
}

type spaceInfo struct {
	ID          string    `json:"id"`
	MemoryCount int64     `json:"memory_count"`
	CreatedAt   time.Time `json:"created_at"`
}

// createSpace serves POST /api/v1/spaces: 201 when created, 200 when it
// already existed.
func (s *Server) createSpace(w http.ResponseWriter, r *http.Request) error {
	id, err := decodeRequest(w, r, decodeSpace)
	if err != nil {
		return err
	}
	sp, created, err := s.store.space(id)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, spaceInfo{ID: sp.id, MemoryCount: sp.count.Load(), CreatedAt: sp.created})
	return nil
}

func (s *Server) listSpaces(w http.ResponseWriter, r *http.Request) {
	spaces := s.store.list()
	out := make([]spaceInfo, len(spaces))
	for i, sp := range spaces {
		out[i] = spaceInfo{ID: sp.id, MemoryCount: sp.count.Load(), CreatedAt: sp.created}
	}
	writeJSON(w, http.StatusOK, map[string]any{"spaces": out, "total": len(out)})
}

// intParam parses an optional integer query parameter in [1, max].
func intParam(v, name string, def, maxV int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxV {
		return 0, fieldErrorf(name, "must be an integer from 1 to %d (got %q)", maxV, clip(v, 24))
	}
	return n, nil
}

func clamp01(v float32) float32 { return min(max(v, 0), 1) }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
