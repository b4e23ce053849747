// Asks HermiT (from the HermiT.jar that owlready2 bundles) exactly the entailment questions allygraph needs,
// for many small ontologies, in one JVM.
//
// Run as a single source file (Java 11 or later; no separate compile step, nothing downloaded):
//
//     java -cp .../owlready2/hermit/HermiT.jar HermitDriver.java JOB_DIR
//
// JOB_DIR holds
//   tbox.nt       the ontology and the definitions (N-Triples), with ontology IRI urn:allygraph:tbox
//   <key>.nt      one "copy" of some evidence per file: an ontology that imports urn:allygraph:tbox
//   queries.tsv   lines "key TAB individual-IRI TAB class-IRI"
// and for each query this prints "key TAB individual TAB class TAB answer", where answer is
//   holds    the copy entails that the individual is a member of the class,
//   fails    the copy entails that it is not (ObjectComplementOf),
//   both     (only possible for an inconsistent copy, reported below instead),
//   unknown  neither;
// and "key TAB - TAB - TAB inconsistent" for a copy with no model. Imports are never fetched: the only one
// allowed is urn:allygraph:tbox, already loaded. Exit codes: 0 done, 2 could not run.

import java.io.BufferedReader;
import java.io.File;
import java.io.FileReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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
            System.err.println("usage: java -cp HermiT.jar HermitDriver.java JOB_DIR");
            System.exit(2);
        }
        try {
            run(new File(args[0]));
            System.exit(0);
        } catch (Throwable e) {
            System.err.println("HermiT driver failed: " + e);
            System.exit(2);
        }
    }

    static void run(File job) throws Exception {
        OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
        File nowhere = new File(job, ".imports-are-not-followed");
        manager.addIRIMapper(iri -> IRI.create(nowhere.toURI()));
        OWLOntologyLoaderConfiguration config = new OWLOntologyLoaderConfiguration()
            .setMissingImportHandlingStrategy(MissingImportHandlingStrategy.SILENT);
        manager.loadOntologyFromOntologyDocument(new FileDocumentSource(new File(job, "tbox.nt")), config);
        OWLDataFactory factory = manager.getOWLDataFactory();

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
        StringBuilder out = new StringBuilder();
        for (Map.Entry<String, List<String[]>> entry : queries.entrySet()) {
            String key = entry.getKey();
            OWLOntology copy = manager.loadOntologyFromOntologyDocument(
                new FileDocumentSource(new File(job, key + ".nt")), config);
            Reasoner reasoner = new Reasoner(new Configuration(), copy);
            try {
                if (!reasoner.isConsistent()) {
                    out.append(key).append("\t-\t-\tinconsistent\n");
                    continue;
                }
                for (String[] query : entry.getValue()) {
                    OWLNamedIndividual individual = factory.getOWLNamedIndividual(IRI.create(query[1]));
                    OWLClass cls = factory.getOWLClass(IRI.create(query[2]));
                    boolean holds = reasoner.isEntailed(factory.getOWLClassAssertionAxiom(cls, individual));
                    boolean fails = reasoner.isEntailed(
                        factory.getOWLClassAssertionAxiom(factory.getOWLObjectComplementOf(cls), individual));
                    String answer = holds && fails ? "both" : holds ? "holds" : fails ? "fails" : "unknown";
                    out.append(key).append('\t').append(query[1]).append('\t').append(query[2])
                        .append('\t').append(answer).append('\n');
                }
            } finally {
                reasoner.dispose();
                manager.removeOntology(copy);
            }
        }
        System.out.print(out);
        System.out.flush();
    }
}
