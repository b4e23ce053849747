// Asks HermiT (from the HermiT.jar that owlready2 bundles) exactly the entailment questions allygraph needs,
// for many small ontologies, in one JVM.
//
// Run as a single source file (Java 11 or later; no separate compile step, nothing downloaded), or compiled:
//
//     java -cp .../owlready2/hermit/HermiT.jar HermitDriver.java TBOX_FILE
//
// TBOX_FILE is the ontology and the definitions (N-Triples) with ontology IRI urn:allygraph:tbox. Then, for
// each line on standard input naming a job folder, holding
//   <key>.nt      one "copy" of some evidence per file: an ontology that imports urn:allygraph:tbox
//   queries.tsv   lines "key TAB individual-IRI TAB class-IRI"
// it prints, then a line "END", for each query "key TAB individual TAB class TAB answer", where answer is
//   holds    the copy entails that the individual is a member of the class,
//   fails    the copy entails that it is not (ObjectComplementOf),
//   unknown  neither;
// and "key TAB - TAB - TAB inconsistent" for a copy with no model. Imports are never fetched: the only one
// allowed is urn:allygraph:tbox, already loaded. One JVM serves every job, copies spread over up to four
// threads (one OWL API manager each). Exit codes: 0 done (end of
// input), 2 could not run.

import java.io.BufferedReader;
import java.io.File;
import java.io.FileReader;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.semanticweb.HermiT.Configuration;
import org.semanticweb.HermiT.Reasoner;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.io.FileDocumentSource;
import org.semanticweb.owlapi.model.IRI;
import org.semanticweb.owlapi.model.MissingImportHandlingStrategy;
import org.semanticweb.owlapi.model.OWLClass;
import org.semanticweb.owlapi.model.OWLDataFactory;
import org.semanticweb.owlapi.model.OWLNamedIndividual;
import org.semanticweb.owlapi.model.OWLOntology;
import org.semanticweb.owlapi.model.OWLOntologyLoaderConfiguration;
import org.semanticweb.owlapi.model.OWLOntologyManager;

public class HermitDriver {
    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: java -cp HermiT.jar HermitDriver.java TBOX_FILE < job folders");
            System.exit(2);
        }
        try {
            File tbox = new File(args[0]);
            // One OWL API manager per worker thread (managers are not thread-safe), each with the TBox.
            int threads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
            List<OWLOntologyManager> managers = new ArrayList<>();
            OWLOntologyLoaderConfiguration config = new OWLOntologyLoaderConfiguration()
                .setMissingImportHandlingStrategy(MissingImportHandlingStrategy.SILENT);
            File nowhere = new File(tbox.getAbsoluteFile().getParentFile(), ".imports-are-not-followed");
            for (int i = 0; i < threads; i++) {
                OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
                manager.addIRIMapper(iri -> IRI.create(nowhere.toURI()));
                manager.loadOntologyFromOntologyDocument(new FileDocumentSource(tbox), config);
                managers.add(manager);
            }
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            BufferedReader input = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
            String job;
            while ((job = input.readLine()) != null) {
                if (!job.isEmpty()) {
                    System.out.print(run(pool, managers, config, new File(job)));
                    System.out.println("END");
                    System.out.flush();
                }
            }
            pool.shutdown();
            System.exit(0);
        } catch (Throwable e) {
            System.err.println("HermiT driver failed: " + e);
            System.exit(2);
        }
    }

    static String run(ExecutorService pool, List<OWLOntologyManager> managers, OWLOntologyLoaderConfiguration config,
                      File job) throws Exception {
        Map<String, List<String[]>> queries = new LinkedHashMap<>();
        try (BufferedReader reader = new BufferedReader(new FileReader(new File(job, "queries.tsv")))) {
            String line;
            while ((line = reader.readLine()) != null) {
                String[] parts = line.split("\t");
                if (parts.length == 3) {
                    queries.computeIfAbsent(parts[0], k -> new ArrayList<>()).add(parts);
                }
            }
        }
        List<String> keys = new ArrayList<>(queries.keySet());
        List<Future<String>> parts = new ArrayList<>();
        for (int w = 0; w < managers.size(); w++) {
            final OWLOntologyManager manager = managers.get(w);
            final int first = w;
            parts.add(pool.submit(() -> {
                StringBuilder out = new StringBuilder();
                for (int i = first; i < keys.size(); i += managers.size()) {
                    out.append(answer(manager, config, job, keys.get(i), queries.get(keys.get(i))));
                }
                return out.toString();
            }));
        }
        StringBuilder out = new StringBuilder();
        for (Future<String> part : parts) {
            out.append(part.get());
        }
        return out.toString();
    }

    static String answer(OWLOntologyManager manager, OWLOntologyLoaderConfiguration config, File job, String key,
                         List<String[]> questions) throws Exception {
        OWLDataFactory factory = manager.getOWLDataFactory();
        StringBuilder out = new StringBuilder();
        OWLOntology copy = manager.loadOntologyFromOntologyDocument(
            new FileDocumentSource(new File(job, key + ".nt")), config);
        Reasoner reasoner = new Reasoner(new Configuration(), copy);
        try {
            if (!reasoner.isConsistent()) {
                return key + "\t-\t-\tinconsistent\n";
            }
            for (String[] query : questions) {
                OWLNamedIndividual individual = factory.getOWLNamedIndividual(IRI.create(query[1]));
                OWLClass cls = factory.getOWLClass(IRI.create(query[2]));
                boolean holds = reasoner.isEntailed(factory.getOWLClassAssertionAxiom(cls, individual));
                // in a consistent copy a class and its complement cannot both be entailed
                boolean fails = !holds && reasoner.isEntailed(
                    factory.getOWLClassAssertionAxiom(factory.getOWLObjectComplementOf(cls), individual));
                String answer = holds ? "holds" : fails ? "fails" : "unknown";
                out.append(key).append('\t').append(query[1]).append('\t').append(query[2])
                    .append('\t').append(answer).append('\n');
            }
        } finally {
            reasoner.dispose();
            manager.removeOntology(copy);
        }
        return out.toString();
    }
}
