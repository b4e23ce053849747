// Checks one ontology document against the OWL 2 DL profile with the OWL API bundled in HermiT.jar.
//
// Run as a single source file (Java 11 or later; no separate compile step, nothing downloaded):
//
//     java -cp .../owlready2/hermit/HermiT.jar ProfileCheck.java ONTOLOGY
//
// ONTOLOGY is RDF/XML, N-Triples, Turtle or OWL/XML. Imports are never fetched: each one is reported on
// stderr as not followed, and the document is checked on its own.
//
// Prints each OWL 2 DL profile violation on its own line on stdout.
// Exit codes: 0 the ontology is in OWL 2 DL; 1 it is not (violations printed); 2 it could not be checked.

import java.io.File;

import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.io.FileDocumentSource;
import org.semanticweb.owlapi.model.IRI;
import org.semanticweb.owlapi.model.MissingImportHandlingStrategy;
import org.semanticweb.owlapi.model.OWLOntology;
import org.semanticweb.owlapi.model.OWLOntologyLoaderConfiguration;
import org.semanticweb.owlapi.model.OWLOntologyManager;
import org.semanticweb.owlapi.profiles.OWL2DLProfile;
import org.semanticweb.owlapi.profiles.OWLProfileReport;
import org.semanticweb.owlapi.profiles.OWLProfileViolation;

public class ProfileCheck {
    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: java -cp HermiT.jar ProfileCheck.java ONTOLOGY");
            System.exit(2);
        }
        try {
            System.exit(check(new File(args[0])));
        } catch (Throwable e) {
            System.err.println("cannot check " + args[0] + ": " + e);
            System.exit(2);
        }
    }

    static int check(File file) throws Exception {
        if (!file.isFile()) {
            System.err.println("no such file: " + file);
            return 2;
        }
        OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
        // Every import resolves to a file that does not exist, and a missing import is skipped silently:
        // the check never touches the network.
        File nowhere = new File(file.getAbsoluteFile().getParentFile(), ".imports-are-not-followed");
        manager.addIRIMapper(iri -> IRI.create(nowhere.toURI()));
        manager.addMissingImportListener(
            event -> System.err.println("import not followed: " + event.getImportedOntologyURI()));
        OWLOntologyLoaderConfiguration config = new OWLOntologyLoaderConfiguration()
            .setMissingImportHandlingStrategy(MissingImportHandlingStrategy.SILENT);
        OWLOntology ontology = manager.loadOntologyFromOntologyDocument(new FileDocumentSource(file), config);

        OWLProfileReport report = new OWL2DLProfile().checkOntology(ontology);
        for (OWLProfileViolation violation : report.getViolations()) {
            System.out.println(violation.toString().replaceAll("\\s+", " ").trim());
        }
        System.out.flush();
        return report.isInProfile() ? 0 : 1;
    }
}
